import { rm } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { type Column, putTable, type TableEntry } from '../../catalog/catalog.js'
import { partitionable } from '../../catalog/iceberg/data-files.js'
import { dropMetadata } from '../../catalog/iceberg/migrate.js'
import { commitFiles, fieldIdsFor } from '../../catalog/iceberg/mirror.js'
import { attachTable } from '../../catalog/views.js'
import { describeColumns } from '../../engine/engine.js'
import { copyParquet } from '../../engine/parquet.js'
import { joinKey } from '../../storage/storage.js'
import { sqlError } from '../compile.js'
import { type Model, modelError } from '../project.js'
import type { BuildContext } from './context.js'

/** Writes rows as Parquet into the model's folder (partitioned if configured); returns the keys. */
export async function write(
  ctx: BuildContext,
  m: Model,
  rows: string,
  seq: number,
  tag: string,
): Promise<{ keys: string[]; rows: number; bytes: number }> {
  const out = join(ctx.stage, `out-${tag}`)
  const iceberg = m.config.format === 'iceberg'
  let r: { written: string[]; ok: number; stats: Map<string, { readonly bytes: number }> }
  try {
    // An Iceberg table's files carry the field ids its next commit gives their columns.
    const columns = iceberg ? await describeColumns(ctx.engine, `(${rows})`) : undefined
    const ids = columns && (await fieldIdsFor(ctx.store, `refined/${m.name}/`, columns, m.config.partitionBy))
    r = await copyParquet(
      ctx.engine,
      rows,
      out,
      `part-${String(seq).padStart(6, '0')}-${tag}`,
      m.config.partitionBy,
      ids,
      columns,
      iceberg,
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
  const bytes = [...r.stats.values()].reduce((n, f) => n + f.bytes, 0)
  return { keys, rows: r.ok, bytes }
}

/**
 * Swaps the model's new output in, with what it read, and attaches it: a table as an Iceberg
 * commit (the default) or its catalog entry's file list (`format='parquet'`); a view as its entry.
 * Replaced files go then, but an Iceberg table's: readers of older snapshots keep them until
 * `weir maintain`. A table whose partitioning changed, or that is no longer Iceberg, starts its
 * Iceberg history again.
 */
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
    model: {
      seq: t.state.seq ?? (previous?.model?.seq ?? 0) + 1,
      sqlHash: t.state.sqlHash,
      inputs: t.state.inputs,
      materialized: m.config.materialized,
      builtAt: new Date().toISOString(),
    },
    updatedAt: new Date().toISOString(),
  }
  const old = previous?.files ?? []
  const files = t.files ?? []
  const keep = new Set(files)
  const iceberg = t.format === 'parquet' && m.config.format === 'iceberg'
  if (previous?.iceberg && (!iceberg || previous.partitioning.join() !== t.partitioning.join()))
    await dropMetadata(ctx.store, entry.location)
  let named: TableEntry = { ...entry, ...(t.files ? { files: t.files } : {}) }
  if (iceberg) {
    checkPartition(m, entry)
    // A table that was Hive-style: its first commit is every file of the build.
    const had = new Set(previous?.iceberg ? old : [])
    named = await commitFiles(
      ctx.store,
      ctx.engine,
      { ...entry, iceberg: true },
      {
        written: files.filter((k) => !had.has(k)),
        removed: old.filter((k) => !keep.has(k)),
        retentionMs: RETENTION_MS,
      },
    )
  } else await putTable(ctx.store, named)
  await attachTable(ctx.engine, ctx.store, named)
  // Unless an Iceberg snapshot kept for readers names them (until `weir maintain`), they go at once.
  if (!(iceberg && previous?.iceberg)) for (const k of old) if (!keep.has(k)) await ctx.store.delete(k)
}

/** How long a model's replaced Iceberg snapshot stays readable: as a trusted table's by default. */
const RETENTION_MS = 3_600_000

/** An Iceberg table keeps its partition values in its manifests, typed: a date, an integer or text. */
function checkPartition(m: Model, entry: TableEntry): void {
  const col = m.config.partitionBy
  const type = col ? entry.columns.find((c) => c.name === col)?.type : undefined
  if (!col || !type || partitionable(type)) return
  throw modelError(
    `${m.path}:${m.firstLine}`,
    `partition_by ${col} is a ${type} column; an Iceberg table is partitioned here by a date, integer or text column: cast it (e.g. CAST(${col} AS DATE)) or set format='parquet'`,
  )
}
