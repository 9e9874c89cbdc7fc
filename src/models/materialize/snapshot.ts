import { join } from 'node:path'
import type { Column, TableEntry } from '../../catalog/catalog.js'
import { readerSql } from '../../catalog/views.js'
import { type Engine, sqlIdent, sqlList, sqlString } from '../../engine/engine.js'
import { localize } from '../../engine/localize.js'
import { sqlError, sqlHash } from '../compile.js'
import { type Model, modelError } from '../project.js'
import { type BuildContext, describe } from './context.js'
import { register, write } from './publish.js'

/**
 * A type-2 slowly changing dimension: every version of each row (by `unique_key`), with
 * `valid_from` and `valid_to` (NULL for the current one). With `strategy='check'` a version starts
 * when one of `check_cols` (default: every column) differs from the current one, stamped with the
 * run's time; with `strategy='timestamp'` when `updated_at` is newer, stamped with it. A key that
 * disappears keeps its current version open, as a profile no longer collected is still the last
 * one seen.
 */
export async function buildSnapshot(
  m: Model,
  ctx: BuildContext,
  sql: string,
  inputs: Record<string, string[]>,
): Promise<{ action: 'created' | 'incremental'; rows: number; files: number; bytes?: number }> {
  const entry = ctx.catalog.get(`refined.${m.name}`)
  const keys = m.config.uniqueKey ?? []
  const cur = await describe(ctx.engine, `(${sql}\n)`, m)
  const names = new Set(cur.map((c) => c.name))
  checkSnapshot(m, names)
  const stamp = stamper(m, ctx.opts.now ?? new Date())
  const seq = (entry?.model?.seq ?? 0) + 1
  const e: Engine = ctx.engine
  const id = m.name.replace(/\W/g, '_')
  const temps = [`_weir_snap_cur_${id}`, `_weir_snap_old_${id}`, `_weir_snap_new_${id}`] as const
  const [curT] = temps
  try {
    try {
      await e.run(`CREATE OR REPLACE TEMP TABLE ${curT} AS SELECT * FROM (${sql}\n)`)
    } catch (err) {
      throw sqlError(m, err)
    }
    await checkOneRowPerKey(e, m, curT, keys)
    let rows: string
    let changed: number
    if (!entry?.files || ctx.opts.fullRefresh) {
      rows = `SELECT *, ${stamp('c')} AS valid_from, NULL::TIMESTAMP AS valid_to FROM ${curT} c`
      changed = Number((await e.query(`SELECT count(*) AS n FROM ${curT}`)).rows[0]?.n ?? 0)
    } else {
      const next = await nextVersions(ctx, m, { ...entry, files: entry.files }, cur, temps, stamp)
      if (!next) return { action: 'incremental', rows: 0, files: 0 }
      ;({ rows, changed } = next)
    }
    const written = await write(ctx, m, rows, seq, 's')
    const columns = await describe(ctx.engine, `(${rows})`, m)
    await register(ctx, m, {
      format: 'parquet',
      columns,
      files: written.keys.sort(),
      partitioning: m.config.partitionBy ? [m.config.partitionBy] : [],
      state: { sqlHash: sqlHash(sql), inputs, seq },
      primaryKey: [...keys, 'valid_from'],
    })
    return {
      action: entry ? 'incremental' : 'created',
      rows: changed,
      files: written.keys.length,
      bytes: written.bytes,
    }
  } finally {
    for (const t of temps) await e.run(`DROP TABLE IF EXISTS ${t}`)
  }
}

/** The query's columns must hold the unique key, and `updated_at` for the timestamp strategy. */
function checkSnapshot(m: Model, names: ReadonlySet<string>): void {
  const at = `${m.path}:${m.firstLine}`
  for (const k of m.config.uniqueKey ?? [])
    if (!names.has(k)) throw modelError(at, `unique_key ${k} is not a column of the snapshot's query`)
  const updatedAt = m.config.updatedAt
  if (m.config.snapshotStrategy === 'timestamp' && (!updatedAt || !names.has(updatedAt)))
    throw modelError(
      at,
      `strategy 'timestamp' needs updated_at naming a column of the query${updatedAt ? ` (${updatedAt} is not one)` : ''}`,
    )
}

/** The time a new version starts: the run's time (check), or the row's `updated_at` (timestamp). */
function stamper(m: Model, time: Date): (alias: string) => string {
  const now = `TIMESTAMP ${sqlString(time.toISOString().replace('T', ' ').replace('Z', ''))}`
  return (alias) =>
    m.config.snapshotStrategy === 'timestamp'
      ? `CAST(${alias}.${sqlIdent(m.config.updatedAt!)} AS TIMESTAMP)`
      : now
}

async function checkOneRowPerKey(e: Engine, m: Model, table: string, keys: readonly string[]): Promise<void> {
  const dupes = Number(
    (
      await e.query(
        `SELECT count(*) AS n FROM (SELECT 1 FROM ${table} GROUP BY ${keys.map(sqlIdent).join(', ')} HAVING count(*) > 1)`,
      )
    ).rows[0]?.n ?? 0,
  )
  if (dupes)
    throw modelError(
      `${m.path}:${m.firstLine}`,
      `${dupes} values of unique_key ${keys.join(', ')} appear more than once in the snapshot's query; a snapshot needs one row per key`,
    )
}

/**
 * The history with this run's versions: rows whose key is new or whose checked columns (or
 * `updated_at`) changed open a version and close the current one. Undefined when nothing changed.
 */
async function nextVersions(
  ctx: BuildContext,
  m: Model,
  entry: TableEntry & { files: readonly string[] },
  cur: readonly Column[],
  [curT, oldT, newT]: readonly [string, string, string],
  stamp: (alias: string) => string,
): Promise<{ rows: string; changed: number } | undefined> {
  const e = ctx.engine
  const keys = m.config.uniqueKey ?? []
  const names = new Set(cur.map((c) => c.name))
  const at = `${m.path}:${m.firstLine}`
  const updatedAt = m.config.updatedAt
  const old = await localize(
    ctx.store,
    await Promise.all(entry.files.map(async (k) => (await ctx.store.head(k))!)),
    join(ctx.stage, 'old'),
  )
  await e.run(
    old.length
      ? `CREATE OR REPLACE TEMP TABLE ${oldT} AS SELECT * FROM ${readerSql(entry, sqlList(old))}`
      : `CREATE OR REPLACE TEMP TABLE ${oldT} AS SELECT *, NULL::TIMESTAMP AS valid_from, NULL::TIMESTAMP AS valid_to FROM ${curT} WHERE false`,
  )
  const match = keys.map((k) => `c.${sqlIdent(k)} IS NOT DISTINCT FROM o.${sqlIdent(k)}`).join(' AND ')
  const had = new Set(entry.columns.map((c) => c.name))
  const checked =
    m.config.checkCols === 'all' || m.config.checkCols === undefined
      ? cur.map((c) => c.name).filter((n) => !keys.includes(n))
      : [...m.config.checkCols]
  for (const c of checked)
    if (!names.has(c)) throw modelError(at, `check_cols: ${c} is not a column of the snapshot's query`)
  // A column the snapshot did not have yet is a change only when it has a value.
  const differs =
    m.config.snapshotStrategy === 'timestamp'
      ? `${stamp('c')} > CAST(o.${sqlIdent(updatedAt!)} AS TIMESTAMP)`
      : checked
          .map((n) =>
            had.has(n)
              ? `c.${sqlIdent(n)} IS DISTINCT FROM o.${sqlIdent(n)}`
              : `c.${sqlIdent(n)} IS NOT NULL`,
          )
          .join(' OR ') || 'false'
  await e.run(
    `CREATE OR REPLACE TEMP TABLE ${newT} AS
     SELECT c.* FROM ${curT} c LEFT JOIN (SELECT * FROM ${oldT} WHERE valid_to IS NULL) o ON ${match}
     WHERE o.${sqlIdent(keys[0]!)} IS NULL OR ${differs}`,
  )
  const changed = Number((await e.query(`SELECT count(*) AS n FROM ${newT}`)).rows[0]?.n ?? 0)
  // Nothing new: the history stays as it is (no rewrite, no new files).
  if (changed === 0 && cur.every((c) => had.has(c.name))) return undefined
  const rows = `SELECT o.* REPLACE (
      CASE WHEN o.valid_to IS NULL THEN (SELECT ${stamp('c')} FROM ${newT} c WHERE ${match}) ELSE o.valid_to END AS valid_to)
    FROM ${oldT} o
    UNION ALL BY NAME
    SELECT c.*, ${stamp('c')} AS valid_from, NULL::TIMESTAMP AS valid_to FROM ${newT} c`
  return { rows, changed }
}
