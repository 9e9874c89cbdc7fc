import { WeirError } from '../core/errors.js'
import { NO_TEMPLATING, renderSql, type Templating } from './jinja.js'
import type { IncrementalStrategy, Materialized, Model, ProjectPaths, Ref } from './project.js'

const REF = /\{\{\s*(ref|source)\(([^)]*)\)\s*\}\}|\b(ref|source)\(([^)]*)\)/g
export const CONFIG = /\{\{-?\s*config\(([\s\S]*?)\)\s*-?\}\}/

export function parseModel(
  path: string,
  text: string,
  kind: 'model' | 'snapshot',
  defaults: ProjectPaths['config'] = {},
  templating: Templating = NO_TEMPLATING,
): Model {
  const raw: Record<string, unknown> = { ...(defaults[baseName(path)] ?? {}), ...readConfig(path, text) }
  // The config call is blanked, not removed, so the SQL keeps its line numbers for error messages.
  const sql = text.replace(CONFIG, (m) => m.replace(/[^\n]/g, ' '))
  const materialized = (kind === 'snapshot' ? 'snapshot' : (raw.materialized ?? 'view')) as Materialized
  const where = `${path}:${lineOf(text, text.search(CONFIG))}`
  if (!['view', 'table', 'incremental', 'snapshot'].includes(materialized))
    throw modelError(
      where,
      `materialized must be view, table, incremental or snapshot, not "${materialized}"`,
    )
  const uniqueKey = list(raw.unique_key)
  const strategy = (raw.incremental_strategy ??
    raw.strategy_incremental ??
    (uniqueKey ? 'merge' : 'append')) as IncrementalStrategy
  if (materialized === 'incremental' && !['merge', 'append', 'insert_overwrite'].includes(strategy))
    throw modelError(
      where,
      `incremental_strategy must be merge, append or insert_overwrite, not "${strategy}"`,
    )
  if (materialized === 'incremental' && strategy === 'merge' && !uniqueKey)
    throw modelError(where, 'an incremental merge needs unique_key (or incremental_strategy: append)')
  if (strategy === 'insert_overwrite' && !raw.partition_by)
    throw modelError(where, 'incremental_strategy insert_overwrite needs partition_by')
  if (kind === 'snapshot' && !uniqueKey) throw modelError(where, 'a snapshot needs unique_key')
  const format = raw.format ?? 'iceberg'
  if (format !== 'iceberg' && format !== 'parquet')
    throw modelError(where, `format must be iceberg or parquet, not "${String(format)}"`)
  // The DAG needs every input, including those only an incremental build reads.
  const render = (incremental: boolean) =>
    renderSql(path, sql, templating, { incremental, self: `refined."${baseName(path)}"` })
  const refs: Ref[] = []
  for (const r of [
    ...findRefs(path, render(false)),
    ...(materialized === 'incremental' ? findRefs(path, render(true)) : []),
  ])
    if (!refs.some((x) => x.kind === r.kind && x.name === r.name)) refs.push(r)
  const firstLine = lineOf(sql, sql.search(/\S/))
  const snapshotStrategy = raw.strategy === 'timestamp' ? 'timestamp' : 'check'
  return {
    name: baseName(path),
    path,
    sql,
    refs,
    firstLine,
    templating,
    config: {
      materialized,
      ...(materialized === 'incremental' ? { strategy } : {}),
      ...(uniqueKey ? { uniqueKey } : {}),
      ...(raw.partition_by ? { partitionBy: String(raw.partition_by) } : {}),
      format,
      ...(raw.incremental_on ? { incrementalOn: String(raw.incremental_on) } : {}),
      tags: list(raw.tags) ?? [],
      ...(raw.description ? { description: String(raw.description) } : {}),
      columns: [],
      ...(kind === 'snapshot'
        ? {
            snapshotStrategy,
            checkCols:
              raw.check_cols === undefined || raw.check_cols === 'all'
                ? 'all'
                : (list(raw.check_cols) ?? 'all'),
            ...(raw.updated_at ? { updatedAt: String(raw.updated_at) } : {}),
          }
        : {}),
    },
  }
}

/** Each `ref('m')` and `source('x', 'tweets')` of rendered SQL, with or without braces, with its line. */
export function findRefs(path: string, sql: string): Ref[] {
  const refs: Ref[] = []
  for (const m of sql.matchAll(REF)) {
    const fn = (m[1] ?? m[3]) as 'ref' | 'source'
    const args = [...(m[2] ?? m[4] ?? '').matchAll(/['"]([^'"]+)['"]/g)].map((a) => a[1]!)
    const line = lineOf(sql, m.index)
    if (fn === 'ref' && args.length !== 1)
      throw modelError(`${path}:${line}`, `ref() takes one model name, e.g. ref('dim_user'): ${m[0]}`)
    if (fn === 'source' && args.length !== 2)
      throw modelError(
        `${path}:${line}`,
        `source() takes a source and a resource, e.g. source('x', 'tweets'): ${m[0]}`,
      )
    refs.push({ kind: fn, name: fn === 'ref' ? args[0]! : `${args[0]}_${args[1]}`, line, text: m[0] })
  }
  return refs
}

/** `{{ config(materialized='incremental', unique_key=['id'], tags=['x']) }}` → an object. */
export function readConfig(path: string, text: string): Record<string, unknown> {
  const m = CONFIG.exec(text)
  if (!m) return {}
  const line = lineOf(text, m.index)
  const body = m[1]!
    .replace(/([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)/g, '"$1":')
    .replace(/'([^']*)'/g, (_, s: string) => JSON.stringify(s))
    .replace(/\bTrue\b/g, 'true')
    .replace(/\bFalse\b/g, 'false')
  try {
    return JSON.parse(`{${body}}`) as Record<string, unknown>
  } catch {
    throw modelError(
      `${path}:${line}`,
      "config() takes key=value pairs of strings, numbers, booleans and lists, e.g. config(materialized='table', unique_key='id')",
    )
  }
}

/** Descriptions, column docs and tests from a `models:` YAML document (dbt's layout). */
export function list(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined
  return (Array.isArray(v) ? v : [v]).map(String)
}

export function lineOf(text: string, index: number): number {
  if (index < 0) return 1
  let n = 1
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) n++
  return n
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1).replace(/\.sql$/, '')
}

export function modelError(where: string, message: string, cause?: unknown): WeirError {
  return new WeirError(`${where}: ${message}`, { code: 'MODEL', stage: 'model', ...(cause ? { cause } : {}) })
}
