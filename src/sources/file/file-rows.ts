import { isUtf8 } from 'node:buffer'
import { createReadStream, type ReadStream } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { WeirError } from '../../core/errors.js'
import type { FileSourceConfig } from './file-schema.js'

export type Row = { row: Record<string, unknown> } | { error: string; raw: string }

/** A file's rows, one object each, or the line that could not be read and why. */
export function rows(
  file: string,
  format: 'csv' | 'ndjson' | 'json' | 'parquet',
  config: FileSourceConfig,
  read: { bytes: number } = { bytes: 0 },
): AsyncGenerator<Row> {
  const open = () => createReadStream(file).on('data', (c) => (read.bytes += c.length))
  return format === 'csv'
    ? csvRows(open, config)
    : format === 'ndjson'
      ? ndjsonRows(open)
      : jsonRows(file, read)
}

type Open = () => ReadStream

/** CSV through csv-parse: a row with the wrong number of fields is set aside, not fatal. */
async function* csvRows(open: Open, config: FileSourceConfig): AsyncGenerator<Row> {
  const { parse } = await import('csv-parse')
  const nulls = new Set(typeof config.csv.null === 'string' ? [config.csv.null] : config.csv.null)
  const parser = open().pipe(
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
}

/** NDJSON, line by line: a line that is not UTF-8 or not a JSON object is set aside. */
async function* ndjsonRows(open: Open): AsyncGenerator<Row> {
  let n = 0
  for await (const bytes of lines(open)) {
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
}

async function* jsonRows(file: string, read: { bytes: number }): AsyncGenerator<Row> {
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
  read.bytes += size
  for (const v of Array.isArray(doc) ? doc : [doc]) {
    yield isObject(v) ? { row: v } : { error: 'array element is not a JSON object', raw: JSON.stringify(v) }
  }
}

/** A file's lines as bytes (without `\n` or `\r\n`), read in chunks; only a line's head spanning chunks is copied. */
async function* lines(open: Open): AsyncGenerator<Buffer> {
  let head: Buffer[] = []
  for await (const chunk of open() as AsyncIterable<Buffer>) {
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

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
