import type { Column, TableEntry } from '../../catalog/catalog.js'
import { describeColumns, type Engine, sqlIdent } from '../../engine/engine.js'
import type { ObjectStore } from '../../storage/storage.js'
import { type Resolver, sqlError } from '../compile.js'
import type { Materialized, Model } from '../project.js'

export interface ModelRunOptions {
  /** `name`, `name+`, `+name`, `tag:x`; every model when empty. */
  readonly select?: readonly string[]
  /** Rebuild incremental models and snapshots from scratch. */
  readonly fullRefresh?: boolean
  /** A local directory for DuckDB's output before it is uploaded; emptied after each model. */
  readonly stagingDir: string
  /** The time snapshots stamp rows with (default now). */
  readonly now?: Date
  /** Models of one level built at once (default 4). */
  readonly concurrency?: number
}

export interface ModelResult {
  readonly model: string
  readonly path: string
  readonly materialized: Materialized
  /** created / rebuilt (whole), incremental (changes only), unchanged (nothing new), skipped (upstream failed), failed. */
  readonly action: 'created' | 'rebuilt' | 'incremental' | 'unchanged' | 'skipped' | 'failed'
  /** Rows written by this build (for an incremental one, the new and changed rows). */
  readonly rows: number
  readonly files: number
  /** Bytes of the files this build wrote. */
  readonly bytes?: number
  readonly seconds: number
  readonly note?: string
  /** One line naming `file:line`, when it failed. */
  readonly error?: string
}

/** What building one model needs besides the model. */
export interface BuildContext {
  readonly store: ObjectStore
  readonly engine: Engine
  readonly catalog: ReadonlyMap<string, TableEntry>
  readonly opts: ModelRunOptions
  readonly stage: string
}

/** What a materialisation reports; the runner adds the model, its path and the time taken. */
export type Built = Pick<ModelResult, 'action' | 'rows' | 'files' | 'bytes'> & { readonly note?: string }

/**
 * Per input table, its live files now (what the build reads); for a view, the files of the tables
 * beneath it, so that a model over a view sees its data change.
 */
export function inputsOf(m: Model, resolver: Resolver): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const r of m.refs) {
    const t = resolver.table(r)
    if (t) out[`${t.zone}.${t.name}`] = filesBeneath(t, resolver, new Set()).sort()
  }
  return out
}

function filesBeneath(t: TableEntry, resolver: Resolver, seen: Set<string>): string[] {
  if (t.format !== 'view') return [...(t.files ?? [])]
  const out: string[] = []
  for (const key of Object.keys(t.model?.inputs ?? {})) {
    const below = resolver.byKey?.(key)
    if (below && !seen.has(key)) out.push(...filesBeneath(below, resolver, seen.add(key)))
  }
  return out
}

/** The columns a relation would have, its SQL error naming the model's file. */
export async function describe(engine: Engine, from: string, m: Model): Promise<Column[]> {
  try {
    return await describeColumns(engine, from)
  } catch (err) {
    throw sqlError(m, err)
  }
}

/** Whether a build read exactly the same files as the last one. */
export function sameInputs(
  a: Readonly<Record<string, readonly string[]>>,
  b: Readonly<Record<string, readonly string[]>>,
) {
  const ka = Object.keys(a).sort()
  const kb = Object.keys(b).sort()
  return ka.join() === kb.join() && ka.every((k) => [...a[k]!].sort().join() === [...b[k]!].sort().join())
}

/** `+lang, price BIGINT → DOUBLE`, or undefined when the columns are the same. */
export function columnChange(before: readonly Column[], after: readonly Column[]): string | undefined {
  const old = new Map(before.map((c) => [c.name, c.type]))
  const now = new Map(after.map((c) => [c.name, c.type]))
  const changes = [
    ...after.filter((c) => !old.has(c.name)).map((c) => `+${c.name}`),
    ...before.filter((c) => !now.has(c.name)).map((c) => `-${c.name}`),
    ...after
      .filter((c) => old.has(c.name) && old.get(c.name) !== c.type)
      .map((c) => `${c.name} ${old.get(c.name)} → ${c.type}`),
  ]
  return changes.length ? changes.join(', ') : undefined
}

/**
 * An incremental model merged by `unique_key` holds one row per key, even when its input holds the
 * same record twice (a source without a primary key, a reading fetched in two runs): otherwise each
 * run adds another copy, and a warehouse with the key as its primary key refuses the table.
 */
export function onePerKey(m: Model, select: string): string {
  const keys = m.config.uniqueKey
  if (m.config.materialized !== 'incremental' || m.config.strategy !== 'merge' || !keys?.length) return select
  return `SELECT * FROM (${select}) QUALIFY row_number() OVER (PARTITION BY ${keys.map(sqlIdent).join(', ')}) = 1`
}
