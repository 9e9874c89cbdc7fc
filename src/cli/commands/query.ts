import { createWriteStream } from 'node:fs'
import { appendFile, readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import type { AsOf } from '../../catalog/iceberg/live.js'
import { errorMessage, WeirError } from '../../core/errors.js'
import { parseDuration } from '../../core/units.js'
import type { Pipeline } from '../../pipeline/pipeline.js'
import { type GlobalOptions, withPipeline } from '../context.js'
import { FORMATS, type Format, renderRows, writeRows } from '../output.js'

export type QueryFormat = Format | 'parquet'

/**
 * `weir query ["<sql>"] [--format table|csv|json|parquet] [--out file]`: SQL over every catalog
 * table, zones as schemas; results stream to stdout or the file. With no SQL, an interactive shell.
 */
export async function queryCommand(
  sql: string | undefined,
  opts: { format?: QueryFormat; out?: string; asOf?: string },
  globals: GlobalOptions,
): Promise<void> {
  const q = opts.asOf ? { asOf: parseAsOf(opts.asOf) } : {}
  await withPipeline(globals, async (p) => {
    if (sql === undefined) return repl(p, opts.format === 'parquet' ? 'table' : (opts.format ?? 'table'))
    const format = opts.format ?? formatOf(opts.out) ?? 'table'
    if (format === 'parquet') {
      if (!opts.out) {
        throw new WeirError('--format parquet writes a file: add --out result.parquet', {
          code: 'QUERY_OUT',
          stage: 'cli',
        })
      }
      const rows = await p.exportParquet(sql, resolve(opts.out), q)
      process.stdout.write(`wrote ${rows.toLocaleString('en-US')} rows to ${opts.out}\n`)
      return
    }
    const file = opts.out ? createWriteStream(opts.out) : undefined
    try {
      await writeRows(await p.queryStream(sql, q), format, (text) => write(file ?? process.stdout, text))
    } finally {
      if (file)
        await new Promise<void>((resolve, reject) =>
          file.end((err?: Error | null) => (err ? reject(err) : resolve())),
        )
    }
  })
}

/** `--as-of`: a snapshot id (digits), a duration ago (`10m`), or a time (`2026-12-01T10:00:00Z`). */
export function parseAsOf(text: string, now = Date.now()): AsOf {
  if (/^\d+$/.test(text)) return { snapshot: Number(text) }
  try {
    return { at: now - parseDuration(text) }
  } catch {
    const at = Date.parse(text)
    if (!Number.isNaN(at)) return { at }
  }
  throw new WeirError(
    `--as-of ${text}: expected a time (2026-12-01T10:00:00Z), a duration ago (10m) or a snapshot id`,
    { code: 'QUERY_AS_OF', stage: 'cli' },
  )
}

function formatOf(out: string | undefined): QueryFormat | undefined {
  const ext = out?.split('.').pop()?.toLowerCase()
  return ext === 'parquet' || ext === 'csv' || ext === 'json' ? ext : undefined
}

/** Writes and waits while the buffer is full, so a large export stays in bounded memory. */
function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (out.write(text)) resolve()
    else out.once('drain', resolve)
  })
}

const HELP = `Statements end with ;  (they may span lines). Zones are schemas: raw, trusted, refined.
  .tables            the catalog's tables
  .format <f>        table, csv or json
  .help              this
  .quit              leave (or Ctrl+D)`

/**
 * The shell: statements end with `;`, errors are one line and the session goes on, and the history
 * is kept in ~/.weir_history (WEIR_HISTORY), as in psql and duckdb.
 */
async function repl(p: Pipeline, initial: Format): Promise<void> {
  const historyFile = process.env.WEIR_HISTORY ?? join(homedir(), '.weir_history')
  const history = (await readFile(historyFile, 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .reverse()
    .slice(0, 1000)
  const rl = createInterface({
    input: process.stdin,
    output: process.stdout,
    terminal: process.stdin.isTTY === true,
    history,
    historySize: 1000,
    prompt: 'weir> ',
  })
  let format: Format = initial
  let pending = ''
  const say = (text: string) => process.stdout.write(`${text}\n`)
  say(`weir query on ${p.store.uri}; .help for help, .quit to leave`)
  rl.prompt()
  for await (const line of rl) {
    const text = pending ? `${pending}\n${line}` : line
    const trimmed = text.trim()
    if (!pending && trimmed.startsWith('.')) {
      const [cmd, arg] = trimmed.split(/\s+/)
      if (cmd === '.quit' || cmd === '.exit') break
      if (cmd === '.help') say(HELP)
      else if (cmd === '.tables') {
        const r = await p.query(
          "select table_schema || '.' || table_name as \"table\" from information_schema.tables where table_schema in ('raw', 'trusted', 'refined') order by 1",
        )
        say(renderRows(r, format))
      } else if (cmd === '.format' && (FORMATS as readonly string[]).includes(arg ?? ''))
        format = arg as Format
      else say(`unknown command ${trimmed}; .help lists them`)
      rl.prompt()
      continue
    }
    if (!trimmed.endsWith(';')) {
      pending = text
      if (trimmed) rl.setPrompt('  ...> ')
      rl.prompt()
      continue
    }
    pending = ''
    rl.setPrompt('weir> ')
    const sql = trimmed.replace(/;\s*$/, '')
    if (sql) {
      await appendFile(historyFile, `${trimmed.replace(/\s*\n\s*/g, ' ')}\n`).catch(() => undefined)
      try {
        await writeRows(await p.queryStream(sql), format, (t) => write(process.stdout, t))
      } catch (err) {
        say(`error: ${errorMessage(err).replace(/\s*\n\s*/g, ' ')}`)
      }
    }
    rl.prompt()
  }
  rl.close()
}
