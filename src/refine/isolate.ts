import { isUtf8 } from 'node:buffer'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { WeirError } from '../core/errors.js'
import { type Engine, sqlString } from '../engine/engine.js'

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
  let bytes = await readFile(file)
  if (file.endsWith('.gz')) bytes = gunzipSync(bytes)
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
