import { rm } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { type Column, putTable, type TableEntry } from '../../catalog/catalog.js'
import { attachTable } from '../../catalog/views.js'
import { copyParquet } from '../../engine/parquet.js'
import { joinKey } from '../../storage/storage.js'
import { sqlError } from '../compile.js'
import type { Model } from '../project.js'
import type { BuildContext } from './context.js'

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

/** Swaps the model's new output into the catalog in one write, with what it read, and attaches it. */
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
