import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { listTables, type TableEntry, tableFiles } from '../catalog/catalog.js'
import { attachLake } from '../catalog/views.js'
import { errorMessage } from '../core/errors.js'
import type { Engine } from '../engine/engine.js'
import type { ObjectStore } from '../storage/storage.js'
import { compile, type Resolver } from './compile.js'
import { levels, select, upstream } from './dag.js'
import {
  type BuildContext,
  type Built,
  inputsOf,
  type ModelResult,
  type ModelRunOptions,
} from './materialize/context.js'
import { buildIncremental } from './materialize/incremental.js'
import { buildSnapshot } from './materialize/snapshot.js'
import { buildTable } from './materialize/table.js'
import { buildView } from './materialize/view.js'
import type { Model, Project } from './project.js'

export type { BuildContext, ModelResult, ModelRunOptions } from './materialize/context.js'

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
          const catalog = await modelCatalog(store, m)
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
    byKey: (key) => catalog.get(key),
    table: (ref) =>
      ref.kind === 'ref'
        ? catalog.get(`refined.${ref.name}`)
        : (catalog.get(`trusted.${ref.name}`) ?? catalog.get(`raw.${ref.name}`)),
  }
}

/**
 * The catalog as a build of `m` reads it: the tables it reads and its own with their live files (an
 * Iceberg table's from its snapshot), the others as listed. An incremental build compares them with
 * the files it last read: what snapshots added and removed since, found even when those snapshots
 * have expired.
 */
async function modelCatalog(store: ObjectStore, m: Model): Promise<Map<string, TableEntry>> {
  const tables = await listTables(store)
  const byKey = new Map(tables.map((t) => [`${t.zone}.${t.name}`, t]))
  // The tables it reads include those beneath the views it reads.
  const used = new Set<string>()
  const visit = (t: TableEntry | undefined) => {
    if (!t || used.has(`${t.zone}.${t.name}`)) return
    used.add(`${t.zone}.${t.name}`)
    if (t.format === 'view') for (const k of Object.keys(t.model?.inputs ?? {})) visit(byKey.get(k))
  }
  const resolver = resolverFor(byKey)
  for (const r of m.refs) visit(resolver.table(r))
  visit(byKey.get(`refined.${m.name}`))
  const withFiles = async (t: TableEntry): Promise<TableEntry> => {
    if (!t.iceberg || !used.has(`${t.zone}.${t.name}`)) return t
    const files = await tableFiles(store, t)
    return files ? { ...t, files } : t
  }
  return new Map(
    await Promise.all(tables.map(async (t) => [`${t.zone}.${t.name}`, await withFiles(t)] as const)),
  )
}
