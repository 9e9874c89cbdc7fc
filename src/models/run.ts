import { mkdir, rm } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { type Column, listTables, putTable, type TableEntry } from '../catalog/catalog.js'
import { attachLake, attachTable, readerSql } from '../catalog/views.js'
import { errorMessage } from '../core/errors.js'
import { hivePartition } from '../core/paths.js'
import { describeColumns, type Engine, sqlIdent, sqlList } from '../engine/engine.js'
import { localize } from '../engine/localize.js'
import { copyParquet } from '../engine/parquet.js'
import { joinKey, type ObjectStore } from '../storage/storage.js'
import { compile, drivingRef, type Resolver, sqlError, sqlHash } from './compile.js'
import { levels, select, upstream } from './dag.js'
import type { Materialized, Model, Project, Ref } from './project.js'
import { buildSnapshot } from './snapshot.js'

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

/**
 * Builds the selected models in dependency order, the independent ones at once: views as views,
 * tables and incremental models as snappy Parquet in `refined/<model>/`, snapshots as type-2
 * history. Each model's output is swapped in the catalog in one write, with what it read, so a
 * crash leaves the previous build in place. A failed model's dependents are skipped; the others go on.
 *
 * @example const results = await runModels(store, engine, await loadProject('.', paths), { stagingDir })
 */
export async function runModels(
  store: ObjectStore,
  engine: Engine,
  project: Project,
  opts: ModelRunOptions,
): Promise<ModelResult[]> {
  const plan = levels(project, select(project, opts.select ?? []))
  await attachLake(engine, store)
  const failed = new Set<string>()
  const results: ModelResult[] = []
  const concurrency = Math.max(1, opts.concurrency ?? 4)
  const forks: Engine[] = []
  for (const level of plan) {
    const queue = [...level]
    const worker = async (e: Engine) => {
      for (let name = queue.shift(); name; name = queue.shift()) {
        const m = project.models.get(name)!
        const t0 = performance.now()
        const base = { model: m.name, path: m.path, materialized: m.config.materialized, rows: 0, files: 0 }
        if (upstream(m).some((u) => failed.has(u))) {
          failed.add(name)
          results.push({ ...base, action: 'skipped', seconds: 0, note: 'an upstream model failed' })
          continue
        }
        const stage = join(opts.stagingDir, `${m.name}-${Date.now()}`)
        try {
          await mkdir(stage, { recursive: true })
          const catalog = new Map((await listTables(store)).map((t) => [`${t.zone}.${t.name}`, t]))
          const r = await buildModel(m, { store, engine: e, catalog, opts, stage })
          results.push({ ...base, ...r, seconds: (performance.now() - t0) / 1000 })
        } catch (err) {
          failed.add(name)
          results.push({
            ...base,
            action: 'failed',
            seconds: (performance.now() - t0) / 1000,
            error: errorMessage(err),
          })
        } finally {
          await rm(stage, { recursive: true, force: true })
        }
      }
    }
    while (forks.length < Math.min(concurrency, level.length) - 1) forks.push(await engine.fork())
    await Promise.all([engine, ...forks].slice(0, Math.min(concurrency, level.length)).map(worker))
  }
  return results
}

type Built = Pick<ModelResult, 'action' | 'rows' | 'files'> & { readonly note?: string }

async function buildModel(m: Model, ctx: BuildContext): Promise<Built> {
  const resolver = resolverFor(ctx.catalog)
  switch (m.config.materialized) {
    case 'view':
      return buildView(m, ctx, resolver)
    case 'table':
      return buildTable(m, ctx, resolver, false)
    case 'incremental':
      return buildIncremental(m, ctx, resolver)
    case 'snapshot':
      return buildSnapshot(m, ctx, compile(m, resolver), inputsOf(m, resolver))
  }
}

/** Refs name refined models; sources name trusted tables, else raw ones. */
export function resolverFor(catalog: ReadonlyMap<string, TableEntry>): Resolver {
  return {
    table: (ref) =>
      ref.kind === 'ref'
        ? catalog.get(`refined.${ref.name}`)
        : (catalog.get(`trusted.${ref.name}`) ?? catalog.get(`raw.${ref.name}`)),
  }
}

/** Per input table, its live files now (what the build reads). */
function inputsOf(m: Model, resolver: Resolver): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const r of m.refs) {
    const t = resolver.table(r)
    if (t) out[`${t.zone}.${t.name}`] = [...(t.files ?? [])]
  }
  return out
}

async function buildView(m: Model, ctx: BuildContext, resolver: Resolver): Promise<Built> {
  const sql = compile(m, resolver)
  const name = `refined.${sqlIdent(m.name)}`
  try {
    await ctx.engine.run(`CREATE OR REPLACE VIEW ${name} AS ${sql}\n`)
  } catch (err) {
    throw sqlError(m, err)
  }
  const columns = await describe(ctx.engine, name, m)
  await register(ctx, m, {
    format: 'view',
    sql: `${sql}\n`,
    columns,
    files: undefined,
    partitioning: [],
    state: { sqlHash: sqlHash(sql), inputs: inputsOf(m, resolver) },
  })
  return { action: 'created', rows: 0, files: 0 }
}

/** A whole build: every row computed again, the old files replaced. */
export async function buildTable(
  m: Model,
  ctx: BuildContext,
  resolver: Resolver,
  forced: boolean,
  note?: string,
): Promise<Built> {
  const sql = compile(m, resolver)
  const entry = ctx.catalog.get(`refined.${m.name}`)
  const inputs = inputsOf(m, resolver)
  const hash = sqlHash(sql)
  if (
    !forced &&
    !ctx.opts.fullRefresh &&
    entry?.format === 'parquet' &&
    entry.model?.sqlHash === hash &&
    sameInputs(entry.model.inputs, inputs)
  )
    return { action: 'unchanged', rows: 0, files: 0 }
  const columns = await describe(ctx.engine, `(${sql}\n)`, m)
  const seq = (entry?.model?.seq ?? 0) + 1
  const written = await write(ctx, m, onePerKey(m, `SELECT * FROM (${sql}\n)`), seq, 'b')
  const old = entry?.files ?? []
  await register(ctx, m, {
    format: 'parquet',
    columns,
    files: [...written.keys].sort(),
    partitioning: m.config.partitionBy ? [m.config.partitionBy] : [],
    state: { sqlHash: hash, inputs, seq },
  })
  for (const k of old) if (!written.keys.includes(k)) await ctx.store.delete(k)
  return {
    action: entry ? 'rebuilt' : 'created',
    rows: written.rows,
    files: written.keys.length,
    ...(note ? { note } : {}),
  }
}

/**
 * Reads only what changed in the driving input since the last build (the partitions whose files
 * changed; for `append`, the new files), and merges the result by `unique_key`, overwrites the
 * output partitions it produced, or appends. The same result as a full build, for models whose rows
 * come from rows of the same partition of the driving input. A change of the output's columns
 * rebuilds the model whole.
 */
async function buildIncremental(m: Model, ctx: BuildContext, resolver: Resolver): Promise<Built> {
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
  const driving = drivingRef(m)
  const input = driving ? resolver.table(driving) : undefined
  if (!driving || !input) return buildTable(m, ctx, resolver, true, 'no input to read incrementally')
  const key = `${input.zone}.${input.name}`
  const before = new Set(entry.model.inputs[key] ?? [])
  const now = input.files ?? []
  const added = now.filter((f) => !before.has(f))
  const removed = [...before].filter((f) => !now.includes(f))
  if (!added.length && !removed.length) return { action: 'unchanged', rows: 0, files: 0 }
  const strategy = m.config.strategy ?? 'append'
  let files: string[]
  if (strategy === 'append') files = added
  else {
    const parts = new Set([...added, ...removed].map(hivePartition))
    files = parts.has('') ? [...now] : now.filter((f) => parts.has(hivePartition(f)))
  }
  const local = await localize(
    ctx.store,
    await Promise.all(files.map(async (k) => (await ctx.store.head(k))!)),
    join(ctx.stage, 'in'),
  )
  const relation = local.length
    ? `(SELECT * FROM ${readerSql(input, sqlList(local))})`
    : `(SELECT * FROM ${input.zone}.${sqlIdent(input.name)} WHERE false)`
  const sql = compile(m, { ...resolver, override: (r: Ref) => (r === driving ? relation : undefined) })
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
    const col = m.config.partitionBy
    let replaced: string[] = []
    let rows = `SELECT * FROM ${temp}`
    if (strategy !== 'append') {
      // The output partitions the new rows fall in (all of it, unpartitioned) are written again.
      if (col) {
        const { rows: values } = await ctx.engine.query(
          `SELECT DISTINCT CAST(${sqlIdent(col)} AS VARCHAR) AS v FROM ${temp}`,
        )
        const touched = new Set(values.map((r) => `${col}=${r.v ?? '__HIVE_DEFAULT_PARTITION__'}`))
        replaced = live.filter((k) => touched.has(hivePartition(k)))
      } else replaced = [...live]
      if (strategy === 'merge' && replaced.length) {
        // Beside the new rows, the old rows of those partitions whose key did not come again.
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
    }
    const fresh = Number((await ctx.engine.query(`SELECT count(*) AS n FROM ${temp}`)).rows[0]?.n ?? 0)
    const written = await write(ctx, m, rows, seq, 'i')
    const gone = new Set(replaced)
    await register(ctx, m, {
      format: 'parquet',
      columns,
      files: [...live.filter((k) => !gone.has(k)), ...written.keys].sort(),
      partitioning: entry.partitioning,
      state: { sqlHash: sqlHash(compile(m, resolver)), inputs: inputsOf(m, resolver), seq },
    })
    for (const k of replaced) if (!written.keys.includes(k)) await ctx.store.delete(k)
    return { action: 'incremental', rows: fresh, files: written.keys.length }
  } finally {
    await ctx.engine.run(`DROP TABLE IF EXISTS ${temp}`)
  }
}

/**
 * An incremental model merged by `unique_key` holds one row per key, even when its input holds the
 * same record twice (a source without a primary key, a reading fetched in two runs): otherwise each
 * run adds another copy, and a warehouse with the key as its primary key refuses the table.
 */
function onePerKey(m: Model, select: string): string {
  const keys = m.config.uniqueKey
  if (m.config.materialized !== 'incremental' || m.config.strategy !== 'merge' || !keys?.length) return select
  return `SELECT * FROM (${select}) QUALIFY row_number() OVER (PARTITION BY ${keys.map(sqlIdent).join(', ')}) = 1`
}

/** Writes rows as Parquet into the model's folder (partitioned if configured); returns the keys. */
export async function write(
  ctx: BuildContext,
  m: Model,
  rows: string,
  seq: number,
  tag: string,
): Promise<{ keys: string[]; rows: number }> {
  const out = join(ctx.stage, `out-${tag}`)
  let r: { written: string[]; ok: number }
  try {
    r = await copyParquet(
      ctx.engine,
      rows,
      out,
      `part-${String(seq).padStart(6, '0')}-${tag}`,
      m.config.partitionBy,
    )
  } catch (err) {
    throw sqlError(m, err)
  }
  const keys: string[] = []
  for (const f of r.written) {
    const key = joinKey(`refined/${m.name}`, relative(out, f).split(sep).join('/'))
    await ctx.store.putFile(key, f)
    keys.push(key)
  }
  await rm(out, { recursive: true, force: true })
  return { keys, rows: r.ok }
}

export async function register(
  ctx: BuildContext,
  m: Model,
  t: {
    format: 'parquet' | 'view'
    sql?: string
    columns: Column[]
    files: string[] | undefined
    partitioning: readonly string[]
    state: { sqlHash: string; inputs: Record<string, readonly string[]>; seq?: number }
    /** Instead of the model's unique key (a snapshot's rows are keyed by key and valid_from). */
    primaryKey?: readonly string[]
  },
): Promise<void> {
  const previous = ctx.catalog.get(`refined.${m.name}`)
  const docs = new Map(m.config.columns.map((c) => [c.name, c.description]))
  const entry: TableEntry = {
    zone: 'refined',
    name: m.name,
    location: `refined/${m.name}/`,
    format: t.format,
    ...(t.sql ? { sql: t.sql } : {}),
    ...(m.config.description ? { description: m.config.description } : {}),
    partitioning: t.partitioning,
    ...(t.primaryKey
      ? { primaryKey: t.primaryKey }
      : m.config.uniqueKey
        ? { primaryKey: m.config.uniqueKey }
        : {}),
    columns: t.columns.map((c) => (docs.get(c.name) ? { ...c, description: docs.get(c.name)! } : c)),
    ...(t.files ? { files: t.files } : {}),
    model: {
      seq: t.state.seq ?? (previous?.model?.seq ?? 0) + 1,
      sqlHash: t.state.sqlHash,
      inputs: t.state.inputs,
      materialized: m.config.materialized,
      builtAt: new Date().toISOString(),
    },
    updatedAt: new Date().toISOString(),
  }
  await putTable(ctx.store, entry)
  await attachTable(ctx.engine, ctx.store, entry)
}

export async function describe(engine: Engine, from: string, m: Model): Promise<Column[]> {
  try {
    return await describeColumns(engine, from)
  } catch (err) {
    throw sqlError(m, err)
  }
}

function sameInputs(
  a: Readonly<Record<string, readonly string[]>>,
  b: Readonly<Record<string, readonly string[]>>,
) {
  const ka = Object.keys(a).sort()
  const kb = Object.keys(b).sort()
  return ka.join() === kb.join() && ka.every((k) => [...a[k]!].sort().join() === [...b[k]!].sort().join())
}

/** `+lang, price BIGINT → DOUBLE`, or undefined when the columns are the same. */
function columnChange(before: readonly Column[], after: readonly Column[]): string | undefined {
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
