import { isUtf8 } from 'node:buffer'
import { createHash } from 'node:crypto'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import type { TableEntry } from '../catalog/catalog.js'
import { errorMessage, WeirError } from '../core/errors.js'
import { type Engine, sqlString } from '../engine/engine.js'
import { localize } from '../engine/localize.js'
import type { StateStore } from '../state/state.js'
import type { ObjectInfo, ObjectStore } from '../storage/storage.js'
import { errorKey, refineTable } from './batch.js'
import { type Ledger, limitBatch, newRawFiles, readLedger } from './files.js'
import { emptyResult, type RefineOptions, type RefineResult } from './result.js'

/** A raw line that cannot be refined, and why. */
export interface BadLine {
  readonly line: number
  readonly reason: string
  /** The line as text, or as base64 when it is not valid UTF-8 (said so in the reason). */
  readonly raw: string
}

/**
 * Whether an error comes from the data (a shape, value or name DuckDB rejects), so that isolating
 * the record at fault can help; a full disk, a lost connection or memory are not: those are retried.
 */
export function isDataError(err: unknown): boolean {
  if (err instanceof WeirError && err.code === 'REFINE_UNREADABLE') return true
  if (!(err instanceof WeirError) || err.code !== 'SQL_FAILED') return false
  return /SQL failed[^:]*: (Invalid Input|Conversion|Binder|Out of Range|Not implemented|Parser|Invalid|Mismatch Type|Catalog) Error/.test(
    err.message,
  )
}

/**
 * Splits one NDJSON raw file (plain or gzip) into the lines DuckDB can read and write as Parquet
 * and those it cannot, found by bisection (a probe per half, down to the single line), so a file of
 * n lines with k bad ones costs about k·log n small reads. Lines that are not JSON objects are found
 * without DuckDB. Returns a clean copy of the file (the good lines, in order) and the bad lines.
 */
export async function cleanNdjson(
  engine: Engine,
  file: string,
  workDir: string,
): Promise<{ clean: string; kept: number; bad: BadLine[] }> {
  await mkdir(workDir, { recursive: true })
  const { lines, bad } = splitLines(await readRaw(file))
  let probes = 0
  const probe = async (chunk: readonly { buf: Buffer }[]): Promise<string | undefined> => {
    const path = join(workDir, `probe-${probes++}.ndjson`)
    await writeFile(path, Buffer.concat(chunk.flatMap((l) => [l.buf, NEWLINE])))
    try {
      await engine.run(
        `CREATE OR REPLACE TEMP TABLE _weir_probe AS SELECT * FROM read_json(${sqlString(path)}, format = 'newline_delimited', union_by_name = true, sample_size = -1)`,
      )
      await engine.run(`COPY _weir_probe TO ${sqlString(join(workDir, 'probe.parquet'))} (FORMAT parquet)`)
      return undefined
    } catch (err) {
      if (!isDataError(err)) throw err
      return (err as Error).message.replace(/^SQL failed[^:]*: /, '').replace(/ \(in: .*\)$/, '')
    } finally {
      await engine.run('DROP TABLE IF EXISTS _weir_probe')
    }
  }
  const good: { n: number; buf: Buffer }[] = []
  const walk = async (chunk: { n: number; buf: Buffer }[]): Promise<void> => {
    if (chunk.length === 0) return
    const why = await probe(chunk)
    if (why === undefined) {
      good.push(...chunk)
      return
    }
    if (chunk.length === 1) {
      bad.push({ line: chunk[0]!.n, reason: why, raw: chunk[0]!.buf.toString('utf8') })
      return
    }
    const mid = chunk.length >> 1
    await walk(chunk.slice(0, mid))
    await walk(chunk.slice(mid))
  }
  await walk(lines)
  good.sort((a, b) => a.n - b.n)
  const clean = join(workDir, 'clean.ndjson')
  await writeFile(clean, Buffer.concat(good.flatMap((l) => [l.buf, NEWLINE])))
  return { clean, kept: good.length, bad: bad.sort((a, b) => a.line - b.line) }
}

const NEWLINE = Buffer.from('\n')

/**
 * One batch, and if the data makes it fail (a record or file DuckDB rejects), the fault isolated:
 * the batch is halved until one file fails alone; that file's bad lines are found and set aside in
 * `_errors/refine/` with DuckDB's reason, and its good lines refined. A file that still cannot be
 * refined (or is not NDJSON) is set aside whole. The table goes on either way.
 */
export async function refineIsolating(
  store: ObjectStore,
  engine: Engine,
  state: StateStore,
  raw: TableEntry,
  opts: RefineOptions,
): Promise<RefineResult> {
  try {
    return await refineTable(store, engine, state, raw, opts)
  } catch (err) {
    if (!isDataError(err)) throw err
    const ledger = await readLedger(state, `refine/${raw.name}`)
    const pending = limitBatch(await newRawFiles(store, raw, ledger), opts)
    if (pending.length > 1)
      return refineIsolating(store, engine, state, raw, {
        ...opts,
        batchFiles: Math.ceil(pending.length / 2),
      })
    const file = pending[0]!
    const work = join(opts.stagingDir, raw.name, `isolate-${Date.now()}`)
    try {
      if (raw.format === 'ndjson') {
        const [local] = await localize(store, [file], join(work, 'in'))
        const cleaned = await cleanNdjson(engine, local!, join(work, 'clean')).catch((e: unknown) => {
          if (!isDataError(e)) throw e
          return e as Error
        })
        if (cleaned instanceof Error) return await setAsideFile(store, state, raw, file, cleaned, opts.now)
        const { clean, bad } = cleaned
        const r = await refineTable(store, engine, state, raw, opts, new Map([[file.key, clean]])).catch(
          (again: unknown) => {
            if (!isDataError(again)) throw again
            return undefined
          },
        )
        if (r) {
          if (bad.length) await setAsideLines(store, raw, file, bad, opts.now)
          return {
            ...r,
            errors: r.errors + bad.length,
            warnings: [
              ...r.warnings,
              ...(bad.length
                ? [`${raw.name}: ${bad.length} line(s) of ${file.key} set aside (${bad[0]!.reason})`]
                : []),
            ],
          }
        }
      }
      return await setAsideFile(store, state, raw, file, err, opts.now)
    } finally {
      await rm(work, { recursive: true, force: true })
    }
  }
}

/** The lines of a raw file that could not be refined, each with its reason, file and line number. */
async function setAsideLines(
  store: ObjectStore,
  raw: TableEntry,
  file: ObjectInfo,
  bad: readonly BadLine[],
  now?: Date,
): Promise<void> {
  const lines = bad.map((b) =>
    JSON.stringify({ _reason: b.reason, _file: file.key, _line: b.line, raw: b.raw }),
  )
  // Named after the file and its version: isolating it again after a crash writes the same name.
  const name = `isolated-${createHash('sha1').update(`${file.key}@${file.etag}`).digest('hex').slice(0, 16)}`
  await store.put(errorKey(raw, name, now), `${lines.join('\n')}\n`)
}

/**
 * A raw file refine cannot read at all: recorded in `_errors/refine/` with the reason (the file stays
 * where it is, in raw), and in the ledger as done with no rows, so the table goes on. A new version
 * of the file is tried again.
 */
async function setAsideFile(
  store: ObjectStore,
  state: StateStore,
  raw: TableEntry,
  file: ObjectInfo,
  err: unknown,
  now?: Date,
): Promise<RefineResult> {
  const reason = errorMessage(err)
    .replace(/^SQL failed[^:]*: /, '')
    .replace(/ \(in: .*\)$/, '')
  await setAsideLines(store, raw, file, [{ line: 0, reason: `the whole file: ${reason}`, raw: '' }], now)
  const name = `refine/${raw.name}`
  const ledger = await readLedger(state, name)
  await state.put(name, {
    ...ledger,
    files: {
      ...ledger.files,
      [file.key]: { size: file.size, etag: file.etag, seq: ledger.seq, records: 0, parts: [] },
    },
  } satisfies Ledger)
  return {
    ...emptyResult(raw.name),
    inputFiles: 1,
    errors: 1,
    warnings: [`${raw.name}: ${file.key} could not be refined and is set aside: ${reason}`],
  }
}

/** A raw file's bytes, gunzipped when it is .gz; a damaged gzip is the data's fault. */
async function readRaw(file: string): Promise<Buffer> {
  let bytes = await readFile(file)
  if (file.endsWith('.gz')) {
    try {
      bytes = gunzipSync(bytes)
    } catch (err) {
      throw new WeirError(`not a readable gzip file: ${(err as Error).message}`, {
        code: 'REFINE_UNREADABLE',
        stage: 'refine',
      })
    }
  }
  return bytes
}

/** The lines that are JSON objects, and the others with their reason, found without DuckDB. */
function splitLines(bytes: Buffer): { lines: { n: number; buf: Buffer }[]; bad: BadLine[] } {
  const lines: { n: number; buf: Buffer }[] = []
  const bad: BadLine[] = []
  let start = 0
  for (let n = 1; start < bytes.length; n++) {
    let end = bytes.indexOf(0x0a, start)
    if (end < 0) end = bytes.length
    const buf = bytes.subarray(start, end)
    start = end + 1
    if (buf.length === 0 || (buf.length === 1 && buf[0] === 0x0d)) continue
    if (!isUtf8(buf)) {
      bad.push({ line: n, reason: 'not valid UTF-8 (raw is base64)', raw: buf.toString('base64') })
      continue
    }
    const text = buf.toString('utf8')
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (err) {
      bad.push({ line: n, reason: `not JSON: ${(err as Error).message}`, raw: text })
      continue
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      bad.push({ line: n, reason: 'not a JSON object', raw: text })
      continue
    }
    lines.push({ n, buf })
  }
  return { lines, bad }
}
