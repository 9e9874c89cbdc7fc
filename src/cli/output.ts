import type { JsonValue, QueryResult } from '../engine/engine.js'

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

function cell(v: JsonValue | undefined): string {
  if (v === null || v === undefined) return ''
  return typeof v === 'object' ? JSON.stringify(v) : String(v)
}

function csvField(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v
}
