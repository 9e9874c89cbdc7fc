import { isUtf8 } from 'node:buffer'
import { createReadStream } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import { basename, extname, join, resolve, sep } from 'node:path'
import { z } from 'zod'
import { WeirError } from '../../core/errors.js'
import type { SourceRecord } from '../../core/records.js'
import type { RawFile, Source, SourceBatch, SourceDefinition } from '../source.js'

export const fileSourceSchema = z.strictObject({
  kind: z
    .literal('file')
    .describe(
      'Local files: CSV, NDJSON or JSON arrays; Parquet files land as they are (their schema is in the footer).',
    ),
  path: z
    .string()
    .min(1)
    .describe(
      'A file or a glob (`*` within a folder, `**` across folders), relative to the config. Files are read oldest first (by modification time, then name); a file is read again when its size or time changes.',
    ),
  format: z
    .enum(['csv', 'ndjson', 'json', 'parquet'])
    .optional()
    .describe('Default: from the extension (.csv, .ndjson/.jsonl, .json, .parquet).'),
  resource: z
    .string()
    .optional()
    .describe("Resource name for every file; default: each file's base name (movies.csv → movies)."),
  csv: z
    .strictObject({
      delimiter: z.string().min(1).default(','),
      quote: z.string().length(1).default('"'),
      header: z.boolean().default(true).describe('The first line names the columns.'),
      columns: z.array(z.string()).optional().describe('Column names when the file has no header.'),
      encoding: z.enum(['utf-8', 'latin1']).default('utf-8'),
      null: z
        .union([z.string(), z.array(z.string())])
        .default([])
        .describe('Values that mean null, e.g. "\\\\N".'),
      quotedNulls: z
        .boolean()
        .default(true)
        .describe(
          'A quoted null token is null too, as in DuckDB; false keeps a quoted one as text, as in PostgreSQL (slower).',
        ),
    })
    .prefault({}),
  raw: z
    .enum(['rows', 'as-is', 'both'])
    .default('rows')
    .describe('rows: emit each row as a record; as-is: land the file byte for byte in the raw zone; both.'),
  batchSize: z.number().int().positive().default(1000).describe('Records per batch published to the stream.'),
})

export type FileSourceConfig = z.output<typeof fileSourceSchema>

interface Seen {
  readonly size: number
  readonly mtimeMs: number
}

/**
 * The cursor of a file source: the files already taken, by path, with the size and time they had,
 * and how far into the file in progress the stream has it (its rows and unreadable lines, counted
 * together), so a restart goes on from there instead of from the file's first line.
 */
export interface FileCursor {
  readonly files: Readonly<Record<string, Seen>>
  readonly current?: Seen & { readonly path: string; readonly items: number }
}

/**
 * Local files as a source, streamed with bounded memory. A file is taken once; a later run takes it
 * again only if its size or time changed. Rows that cannot be read are set aside with the reason.
 */
export function createFileSource(name: string, config: FileSourceConfig, baseDir = process.cwd()): Source {
  return {
    name,
    async *pull(ctx): AsyncGenerator<SourceBatch> {
      const saved = ctx.cursor as FileCursor | undefined
      const seen: Record<string, Seen> = { ...(saved?.files ?? {}) }
      // Oldest first (then by name), the file a crash or a stop left half read before all: a file
      // that arrives later comes after every file already there, so the batches pulled again from a
      // cursor after a crash are the batches pulled before it, whatever arrived meanwhile.
      const found = await inArrivalOrder(await expandGlob(resolve(baseDir, config.path)))
      const first = saved?.current?.path
      const files = first && found.includes(first) ? [first, ...found.filter((f) => f !== first)] : found
      if (files.length === 0) {
        throw new WeirError(`source ${name}: no file matches ${config.path}`, {
          code: 'SOURCE_NO_FILES',
          stage: 'source',
        })
      }
      for (const file of files) {
        if (ctx.signal.aborted) return
        const s = await stat(file)
        const prev = seen[file]
        if (prev && prev.size === s.size && prev.mtimeMs === s.mtimeMs) continue
        const format = config.format ?? formatOf(file)
        const resource =
          config.resource ??
          basename(file, extname(file))
            .replace(/[^A-Za-z0-9_]/g, '_')
            .toLowerCase()
        const done = () => {
          seen[file] = { size: s.size, mtimeMs: s.mtimeMs }
          return { files: { ...seen } } satisfies FileCursor
        }
        const at = (items: number): FileCursor => ({
          files: { ...seen },
          current: { path: file, size: s.size, mtimeMs: s.mtimeMs, items },
        })
        // Part of this file is in the stream already, if it is the one a crash or a stop left
        // half read and it has not changed since (a file that changed is read again whole).
        const c = saved?.current
        const resume = c && c.path === file && c.size === s.size && c.mtimeMs === s.mtimeMs ? c.items : 0
        // Parquet is already columnar and typed: it lands as it is, and refine reads it with DuckDB.
        const asIs = format === 'parquet' ? 'as-is' : config.raw
        if (format === 'parquet' && ctx.asParent) {
          throw new WeirError(
            `source ${name}: ${basename(file)} is Parquet, which cannot be a parent source's rows; use CSV, NDJSON or JSON`,
            { code: 'SOURCE_FORMAT', stage: 'source' },
          )
        }
        if (asIs !== 'rows' && !ctx.asParent) {
          // With both, the file and its rows are two tables: the file's gets the _file suffix.
          const raw: RawFile = {
            resource: asIs === 'both' ? `${resource}_file` : resource,
            path: file,
            format,
            ...(format === 'csv' ? { csv: config.csv } : {}),
          }
          if (asIs === 'as-is') {
            yield { records: [], files: [raw], cursor: done() }
            continue
          }
          if (resume === 0) yield { records: [], files: [raw], cursor: at(0) }
        }
        let batch: SourceRecord[] = []
        let errors: { reason: string; raw: string; resource: string }[] = []
        let items = 0
        for await (const item of rows(file, format, config)) {
          if (++items <= resume) continue
          if ('error' in item)
            errors.push({ reason: `${basename(file)}: ${item.error}`, raw: item.raw, resource })
          else batch.push({ resource, data: item.row })
          if (batch.length >= config.batchSize) {
            yield { records: batch, ...(errors.length ? { errors } : {}), cursor: at(items) }
            batch = []
            errors = []
          }
        }
        // The file's cursor moves with its last batch, once every row of it is in the stream.
        yield { records: batch, ...(errors.length ? { errors } : {}), cursor: done() }
      }
    },
  }
}

type Row = { row: Record<string, unknown> } | { error: string; raw: string }

async function* rows(
  file: string,
  format: 'csv' | 'ndjson' | 'json' | 'parquet',
  config: FileSourceConfig,
): AsyncGenerator<Row> {
  if (format === 'csv') {
    const { parse } = await import('csv-parse')
    const nulls = new Set(typeof config.csv.null === 'string' ? [config.csv.null] : config.csv.null)
    const parser = createReadStream(file).pipe(
      parse({
        delimiter: config.csv.delimiter,
        quote: config.csv.quote,
        columns: config.csv.header ? true : (config.csv.columns ?? false),
        encoding: config.csv.encoding === 'latin1' ? 'latin1' : 'utf8',
        bom: true,
        skip_empty_lines: true,
        // A row with the wrong number of fields is set aside, not fatal.
        skip_records_with_error: true,
        // csv-parse builds a context for every field when given a cast function, which costs more
        // than the parsing itself; only the exact PostgreSQL rule needs it.
        ...(nulls.size && !config.csv.quotedNulls
          ? {
              cast: (value: string, ctx: { quoting: boolean }) =>
                !ctx.quoting && nulls.has(value) ? null : value,
            }
          : {}),
      }),
    )
    const skipped: Row[] = []
    parser.on('skip', (err: Error & { record?: unknown; raw?: string; lines?: number }) => {
      skipped.push({
        error: `line ${err.lines ?? '?'}: ${err.message}`,
        raw: err.raw ?? JSON.stringify(err.record ?? null),
      })
    })
    for await (const rec of parser) {
      while (skipped.length) yield skipped.shift()!
      const row: Record<string, unknown> = Array.isArray(rec)
        ? Object.fromEntries(rec.map((v: unknown, i: number) => [`column${i}`, v]))
        : rec
      if (nulls.size && config.csv.quotedNulls)
        for (const k in row) if (nulls.has(row[k] as string)) row[k] = null
      yield { row }
    }
    while (skipped.length) yield skipped.shift()!
    return
  }
  if (format === 'ndjson') {
    let n = 0
    for await (const bytes of lines(file)) {
      n++
      // Decoding would replace bad bytes with U+FFFD and land altered data: set the line aside.
      if (!isUtf8(bytes)) {
        yield { error: `line ${n}: not valid UTF-8 (raw is base64)`, raw: bytes.toString('base64') }
        continue
      }
      const line = bytes.toString('utf8')
      if (!line.trim()) continue
      try {
        const v = JSON.parse(line)
        yield isObject(v) ? { row: v } : { error: `line ${n}: not a JSON object`, raw: line }
      } catch (err) {
        yield { error: `line ${n}: ${(err as Error).message}`, raw: line }
      }
    }
    return
  }
  // A JSON array is parsed whole: keep such files small, or use NDJSON for large ones.
  const { size } = await stat(file)
  if (size > 256 * 1024 * 1024) {
    throw new WeirError(
      `${file}: a JSON array over 256 MB cannot be streamed; convert it to NDJSON (one object per line)`,
      {
        code: 'SOURCE_FILE_TOO_BIG',
        stage: 'source',
      },
    )
  }
  const doc = JSON.parse(await readFile(file, 'utf8')) as unknown
  for (const v of Array.isArray(doc) ? doc : [doc]) {
    yield isObject(v) ? { row: v } : { error: 'array element is not a JSON object', raw: JSON.stringify(v) }
  }
}

/** A file's lines as bytes (without `\n` or `\r\n`), read in chunks; only a line's head spanning chunks is copied. */
async function* lines(file: string): AsyncGenerator<Buffer> {
  let head: Buffer[] = []
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    let start = 0
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      const part = chunk.subarray(start, nl)
      yield trimCr(head.length ? Buffer.concat([...head, part]) : part)
      head = []
      start = nl + 1
    }
    if (start < chunk.length) head.push(chunk.subarray(start))
  }
  if (head.length) yield trimCr(Buffer.concat(head))
}

function trimCr(b: Buffer): Buffer {
  return b.length && b[b.length - 1] === 0x0d ? b.subarray(0, -1) : b
}

function formatOf(file: string): 'csv' | 'ndjson' | 'json' | 'parquet' {
  const ext = extname(file).toLowerCase()
  if (ext === '.parquet') return 'parquet'
  if (ext === '.csv' || ext === '.tsv' || ext === '.txt') return 'csv'
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson'
  if (ext === '.json') return 'json'
  throw new WeirError(
    `${file}: cannot tell the format from "${ext}"; set format: csv, ndjson, json or parquet`,
    {
      code: 'SOURCE_FORMAT',
      stage: 'config',
    },
  )
}

async function inArrivalOrder(files: readonly string[]): Promise<string[]> {
  const times = new Map<string, number>()
  for (const f of files) times.set(f, (await stat(f).catch(() => undefined))?.mtimeMs ?? 0)
  return [...files].sort((a, b) => times.get(a)! - times.get(b)! || (a < b ? -1 : a > b ? 1 : 0))
}

/** `*` matches within one folder and `**` across folders; a plain path is itself. */
export async function expandGlob(pattern: string): Promise<string[]> {
  if (!/[*?]/.test(pattern)) return (await stat(pattern).catch(() => undefined)) ? [pattern] : []
  const parts = pattern.split(sep)
  const firstWild = parts.findIndex((p) => /[*?]/.test(p))
  const root = parts.slice(0, firstWild).join(sep) || sep
  const rest = parts.slice(firstWild).join('/')
  const re = new RegExp(
    `^${rest
      .split('/')
      .map((seg) =>
        seg === '**'
          ? '(?:.*/)?'
          : `${seg
              .replace(/[.+^${}()|[\]\\]/g, '\\$&')
              .replace(/\*/g, '[^/]*')
              .replace(/\?/g, '[^/]')}/`,
      )
      .join('')
      .replace(/\/$/, '')
      .replace(/\(\?:\.\*\/\)\?$/, '.*')}$`,
  )
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => [])
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .filter((f) =>
      re.test(
        f
          .slice(root.length + (root.endsWith(sep) ? 0 : 1))
          .split(sep)
          .join('/'),
      ),
    )
    .sort()
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export const fileSource = {
  kind: 'file',
  schema: fileSourceSchema,
  create: (name, config, env) => createFileSource(name, config, env.baseDir),
} satisfies SourceDefinition<FileSourceConfig>
