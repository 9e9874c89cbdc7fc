import { join } from 'node:path'
import type { TableEntry } from '../../catalog/catalog.js'
import { readerSql } from '../../catalog/views.js'
import { hivePartition } from '../../core/paths.js'
import { sqlIdent, sqlList } from '../../engine/engine.js'
import { localize } from '../../engine/localize.js'
import { compile, drivingRef, ownsIncrement, type Resolver, sqlError, sqlHash } from '../compile.js'
import type { Model, Ref } from '../project.js'
import {
  type BuildContext,
  type Built,
  columnChange,
  describe,
  inputsOf,
  onePerKey,
  sameInputs,
} from './context.js'
import { register, write } from './publish.js'
import { buildTable } from './table.js'

/**
 * Reads only what changed in the driving input since the last build (the partitions whose files
 * changed; for `append`, the new files), and merges the result by `unique_key`, overwrites the
 * output partitions it produced, or appends. The same result as a full build, for models whose rows
 * come from rows of the same partition of the driving input. A change of the output's columns
 * rebuilds the model whole.
 */
export async function buildIncremental(m: Model, ctx: BuildContext, resolver: Resolver): Promise<Built> {
  const entry = ctx.catalog.get(`refined.${m.name}`)
  if (!entry?.model || entry.format !== 'parquet' || ctx.opts.fullRefresh)
    return buildTable(
      m,
      ctx,
      resolver,
      true,
      entry && !ctx.opts.fullRefresh ? 'first incremental build' : undefined,
    )
  // A changed SQL whose output columns changed rebuilds at once, new data or not.
  const fullSql = compile(m, resolver)
  if (sqlHash(fullSql) !== entry.model.sqlHash) {
    const changed = columnChange(entry.columns, await describe(ctx.engine, `(${fullSql}\n)`, m))
    if (changed) return buildTable(m, ctx, resolver, true, `rebuilt: the columns changed (${changed})`)
  }
  const sql = ownsIncrement(m)
    ? ownIncrement(m, resolver, entry)
    : await changedFilesOnly(m, ctx, resolver, entry)
  if (sql === undefined) return { action: 'unchanged', rows: 0, files: 0 }
  if (typeof sql === 'object') return buildTable(m, ctx, resolver, true, sql.rebuild)
  const columns = await describe(ctx.engine, `(${sql}\n)`, m)
  const changed = columnChange(entry.columns, columns)
  if (changed) return buildTable(m, ctx, resolver, true, `rebuilt: the columns changed (${changed})`)

  const seq = entry.model.seq + 1
  const temp = `_weir_new_${m.name.replace(/\W/g, '_')}`
  try {
    await ctx.engine.run(
      `CREATE OR REPLACE TEMP TABLE ${temp} AS ${onePerKey(m, `SELECT * FROM (${sql}\n)`)}`,
    )
  } catch (err) {
    throw sqlError(m, err)
  }
  try {
    const live = entry.files ?? []
    const { rows, replaced } = await outputRows(ctx, m, entry, temp)
    const fresh = Number((await ctx.engine.query(`SELECT count(*) AS n FROM ${temp}`)).rows[0]?.n ?? 0)
    const written = await write(ctx, m, rows, seq, 'i')
    const gone = new Set(replaced)
    await register(ctx, m, {
      format: 'parquet',
      columns,
      files: [...live.filter((k) => !gone.has(k)), ...written.keys].sort(),
      partitioning: entry.partitioning,
      state: { sqlHash: sqlHash(fullSql), inputs: inputsOf(m, resolver), seq },
    })
    return { action: 'incremental', rows: fresh, files: written.keys.length, bytes: written.bytes }
  } finally {
    await ctx.engine.run(`DROP TABLE IF EXISTS ${temp}`)
  }
}

/** A model with `is_incremental()`: its own filter picks the new rows, once any input changed. */
function ownIncrement(m: Model, resolver: Resolver, entry: TableEntry): string | undefined {
  return inputsUnchanged(m, resolver, entry) ? undefined : compile(m, resolver, { incremental: true })
}

function inputsUnchanged(m: Model, resolver: Resolver, entry: TableEntry): boolean {
  return sameInputs(entry.model?.inputs ?? {}, inputsOf(m, resolver))
}

/** The model's SQL with its driving input read from only the files that changed since the last build. */
async function changedFilesOnly(
  m: Model,
  ctx: BuildContext,
  resolver: Resolver,
  entry: TableEntry,
): Promise<string | { rebuild: string } | undefined> {
  const driving = drivingRef(m)
  const input = driving ? resolver.table(driving) : undefined
  if (!driving || !input) return { rebuild: 'no input to read incrementally' }
  // A view has no files of its own to read the changes of: the model is computed whole, once its
  // tables changed (or written with {% if is_incremental() %} to pick its new rows itself).
  if (input.format === 'view')
    return inputsUnchanged(m, resolver, entry)
      ? undefined
      : { rebuild: `built whole: its input ${input.zone}.${input.name} is a view` }
  const files = filesToRead(
    m.config.strategy ?? 'append',
    entry.model?.inputs[`${input.zone}.${input.name}`] ?? [],
    input.files ?? [],
  )
  if (!files) return undefined
  const local = await localize(
    ctx.store,
    await Promise.all(files.map(async (k) => (await ctx.store.head(k))!)),
    join(ctx.stage, 'in'),
  )
  const relation = local.length
    ? `(SELECT * FROM ${readerSql(input, sqlList(local))})`
    : `(SELECT * FROM ${input.zone}.${sqlIdent(input.name)} WHERE false)`
  // Only the first read of the driving input is narrowed, as written (a self-join reads it whole).
  let narrowed = false
  const override = (r: Ref) => {
    if (narrowed || r.kind !== driving.kind || r.name !== driving.name) return undefined
    narrowed = true
    return relation
  }
  return compile(m, { ...resolver, override })
}

/**
 * The driving input's files a build must read, or undefined when none changed: for `append` the
 * new files; otherwise every file of each partition where a file came or went (all of them when
 * the input is not partitioned).
 */
export function filesToRead(
  strategy: 'append' | 'merge' | 'insert_overwrite',
  built: readonly string[],
  now: readonly string[],
): string[] | undefined {
  const before = new Set(built)
  const added = now.filter((f) => !before.has(f))
  const removed = built.filter((f) => !now.includes(f))
  if (!added.length && !removed.length) return undefined
  if (strategy === 'append') return added
  const parts = new Set([...added, ...removed].map(hivePartition))
  return parts.has('') ? [...now] : now.filter((f) => parts.has(hivePartition(f)))
}

/**
 * The rows to write and the live files they replace: the new rows alone (append); the new rows,
 * replacing the output partitions they fall in (insert_overwrite); and, for merge, beside them the
 * old rows of those partitions whose key did not come again.
 */
async function outputRows(ctx: BuildContext, m: Model, entry: TableEntry, temp: string) {
  const strategy = m.config.strategy ?? 'append'
  const live = entry.files ?? []
  const col = m.config.partitionBy
  let rows = `SELECT * FROM ${temp}`
  if (strategy === 'append') return { rows, replaced: [] as string[] }
  let replaced: string[]
  if (col) {
    const { rows: values } = await ctx.engine.query(
      `SELECT DISTINCT CAST(${sqlIdent(col)} AS VARCHAR) AS v FROM ${temp}`,
    )
    const touched = new Set(values.map((r) => `${col}=${r.v ?? '__HIVE_DEFAULT_PARTITION__'}`))
    replaced = live.filter((k) => touched.has(hivePartition(k)))
  } else replaced = [...live]
  if (strategy === 'merge' && replaced.length) {
    const match = (m.config.uniqueKey ?? [])
      .map((k) => `n.${sqlIdent(k)} IS NOT DISTINCT FROM o.${sqlIdent(k)}`)
      .join(' AND ')
    const old = await localize(
      ctx.store,
      await Promise.all(replaced.map(async (k) => (await ctx.store.head(k))!)),
      join(ctx.stage, 'old'),
    )
    rows = `${rows} UNION ALL BY NAME SELECT o.* FROM ${readerSql(entry, sqlList(old))} o WHERE NOT EXISTS (SELECT 1 FROM ${temp} n WHERE ${match})`
  }
  return { rows, replaced }
}
