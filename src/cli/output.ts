import type { JsonValue, QueryResult, QueryStream } from '../engine/engine.js'

export const FORMATS = ['table', 'csv', 'json'] as const
export type Format = (typeof FORMATS)[number]

/** Renders rows for the terminal (`table`), for spreadsheets (`csv`, RFC 4180) or for programs (`json`). */
export function renderRows(result: Pick<QueryResult, 'columns' | 'rows'>, format: Format): string {
  const names = result.columns.map((c) => c.name)
  if (format === 'json') return JSON.stringify(result.rows)
  if (format === 'csv') {
    const lines = [names.map(csvField).join(',')]
    for (const row of result.rows) lines.push(names.map((n) => csvField(cell(row[n]))).join(','))
    return lines.join('\n')
  }
  const cells = result.rows.map((row) => names.map((n) => cell(row[n])))
  const widths = names.map((n, i) => Math.min(60, Math.max(n.length, ...cells.map((r) => r[i]!.length))))
  const fmt = (vals: string[]) =>
    vals
      .map((v, i) => (v.length > widths[i]! ? `${v.slice(0, widths[i]! - 1)}…` : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  const out = [fmt(names), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(fmt)]
  out.push(`(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})`)
  return out.join('\n')
}

/** How many rows the table format shows; csv and json stream every row. */
export const TABLE_ROWS = 1_000

/**
 * Writes a streamed result without holding it in memory: `csv` and `json` row by row (`write`
 * should wait for the output to drain), `table` up to TABLE_ROWS rows, saying so when it stops there.
 */
export async function writeRows(
  result: QueryStream,
  format: Format,
  write: (text: string) => Promise<void>,
): Promise<void> {
  const names = result.columns.map((c) => c.name)
  if (format === 'table') {
    const rows: Record<string, JsonValue>[] = []
    let more = false
    for await (const chunk of result.chunks) {
      rows.push(...chunk.slice(0, TABLE_ROWS - rows.length))
      if (rows.length >= TABLE_ROWS) {
        more = chunk.length > 0
        break
      }
    }
    const note = more
      ? `\n(showing the first ${TABLE_ROWS.toLocaleString('en-US')} rows; --format csv or json gives all)`
      : ''
    await write(`${renderRows({ columns: result.columns, rows }, 'table')}${note}\n`)
    return
  }
  if (format === 'csv') await write(`${names.map(csvField).join(',')}\n`)
  else await write('[')
  let first = true
  for await (const chunk of result.chunks) {
    if (chunk.length === 0) continue
    if (format === 'csv') {
      await write(`${chunk.map((row) => names.map((n) => csvField(cell(row[n]))).join(',')).join('\n')}\n`)
    } else {
      await write(`${first ? '' : ','}${chunk.map((row) => JSON.stringify(row)).join(',')}`)
      first = false
    }
  }
  if (format === 'json') await write(']\n')
}

function cell(v: JsonValue | undefined): string {
  if (v === null || v === undefined) return ''
  return typeof v === 'object' ? JSON.stringify(v) : String(v)
}

function csvField(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v
}
