import { createHash } from 'node:crypto'
import type { TableEntry } from '../catalog/catalog.js'
import { errorMessage, WeirError } from '../core/errors.js'
import { sqlIdent } from '../engine/engine.js'
import { NO_TEMPLATING, renderSql } from './jinja.js'
import { findRefs } from './parse-model.js'
import { type Model, modelError, type Ref } from './project.js'

/** How each ref and source of a model reads when compiled. */
export interface Resolver {
  /** The catalog table a ref or source names, or undefined. */
  table(ref: Ref): TableEntry | undefined
  /** A catalog table by `zone.name` (the tables a view reads). */
  byKey?(key: string): TableEntry | undefined
  /** For an incremental build: the relation that replaces the ref it reads incrementally. */
  override?(ref: Ref): string | undefined
}

/**
 * The model's SQL, its Jinja rendered, with each `ref('m')` replaced by `refined."m"` and each
 * `source('x', 'tweets')` by the trusted (or raw) table, on the same line, so DuckDB's error
 * positions are the file's. `incremental` is what `is_incremental()` says.
 */
export function compile(model: Model, resolve: Resolver, options: { incremental?: boolean } = {}): string {
  const rendered = renderSql(model.path, model.sql, model.templating ?? NO_TEMPLATING, {
    incremental: options.incremental === true,
    self: `refined.${sqlIdent(model.name)}`,
  })
  let out = rendered
  for (const ref of findRefs(model.path, rendered)) {
    const replacement = resolve.override?.(ref) ?? qualified(model, ref, resolve.table(ref))
    out = out.replace(ref.text, replacement)
  }
  return out.replace(/;\s*$/, '')
}

/**
 * Whether the model picks its new rows itself (`{% if is_incremental() %}`, as in dbt): its build
 * then reads its inputs whole, filtered by its own condition, instead of their changed files.
 */
export function ownsIncrement(model: Model): boolean {
  return /\bis_incremental\s*\(/.test(model.sql)
}

function qualified(model: Model, ref: Ref, t: TableEntry | undefined): string {
  if (!t) {
    if (ref.kind === 'ref') return `refined.${sqlIdent(ref.name)}`
    throw modelError(
      `${model.path}:${ref.line}`,
      `${ref.text.replace(/^\{\{\s*|\s*\}\}$/g, '')} is not in the catalog (no trusted or raw table ${ref.name}); ingest and refine it first, or fix the name`,
    )
  }
  return `${t.zone}.${sqlIdent(t.name)}`
}

/** The input an incremental model reads only the changes of: `incremental_on`, else its first ref or source. */
export function drivingRef(model: Model): Ref | undefined {
  const on = model.config.incrementalOn
  if (on) return model.refs.find((r) => r.name === on || r.text.includes(`'${on}'`))
  return model.refs[0]
}

export function sqlHash(sql: string): string {
  return createHash('sha256').update(sql).digest('hex').slice(0, 16)
}

/**
 * A DuckDB error in a model's SQL as one line naming the file and line: DuckDB's `LINE n:` counts
 * from the statement's first line, which is the file's first line (the SQL is embedded unchanged).
 */
export function sqlError(model: { path: string; firstLine: number; name: string }, err: unknown): WeirError {
  const full = errorMessage(err instanceof WeirError && err.cause ? err.cause : err)
  const line = Number(/LINE (\d+):/.exec(full)?.[1] ?? model.firstLine)
  const first = full.split('\n')[0]!.trim()
  return modelError(`${model.path}:${line}`, `${first} (model ${model.name})`, err)
}
