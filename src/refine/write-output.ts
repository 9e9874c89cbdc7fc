import { stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import type { TableEntry } from '../catalog/catalog.js'
import { fieldIdsFor } from '../catalog/iceberg/mirror.js'
import { promotes } from '../catalog/iceberg/schema.js'
import { hivePartition } from '../core/paths.js'
import { describeColumns, type Engine } from '../engine/engine.js'
import { localize } from '../engine/localize.js'
import type { FileStats } from '../engine/parquet.js'
import { joinKey, type ObjectStore } from '../storage/storage.js'
import { infos } from './files.js'
import type { Output } from './outputs.js'
import { fitSchema, mergePartitions, pad } from './parquet.js'
import { errorKey } from './register.js'
import { planSchema, type SchemaPlan } from './schema.js'

/** Where and how one batch writes: its number, staging folder, schema policy and raw table. */
export interface BatchContext {
  readonly seq: number
  readonly stage: string
  readonly partitioned: boolean
  readonly policy: 'evolve' | 'quarantine' | 'freeze'
  readonly raw: TableEntry
  readonly now: Date | undefined
  /** The tables are Iceberg tables: files carry their field ids. */
  readonly iceberg: boolean
}

/** What writing one output did: its schema plan, its live files after, and the files it replaced. */
export interface OutputWrite {
  readonly plan: SchemaPlan
  readonly ok: number
  readonly bad: number
  readonly files: string[]
  /** The files this write put, some perhaps under names the table had (a batch run again). */
  readonly written: string[]
  /** Their rows and bytes, by lake key, as the writes counted them. */
  readonly stats: FileStats
  readonly gone: string[]
  readonly bytes: number
  readonly published: number
  readonly warnings: string[]
}

/**
 * Writes one output of a batch: fits its rows to the table's schema (cast, widen, or set aside by
 * the policy), writes them as Parquet, dedupes by key against the partitions the batch touches,
 * and uploads the files. Nothing is registered here: the caller swaps every output in at once.
 */
export async function writeOutput(
  store: ObjectStore,
  engine: Engine,
  o: Output,
  c: BatchContext & {
    /** The output's place in the batch (0: the trusted table itself; then its child tables). */
    readonly n: number
  },
): Promise<OutputWrite> {
  const warnings: string[] = []
  let bytes = 0
  // Fit the batch to the table's schema (cast, widen, or set rows aside), by the table's policy.
  const batch = await describeColumns(engine, o.staged)
  const plan = planSchema(o.trusted?.columns, batch, c.policy, c.iceberg ? promotes : undefined, o.keys)
  warnings.push(...plan.changes.filter((ch) => ch.includes('do not fit')).map((ch) => `${o.name}: ${ch}`))
  // One write of Parquet per table: from the staged rows, cast and filtered to fit.
  const base = join(c.stage, `fitted-${c.n}`)
  const unfit = join(c.stage, `unfit-${c.n}.ndjson`)
  const ids = c.iceberg
    ? await fieldIdsFor(store, o.location, plan.columns, c.partitioned ? 'dt' : undefined)
    : undefined
  const fitted = await fitSchema(engine, o.staged, plan, base, unfit, c.seq, c.partitioned, ids, batch)
  if (fitted.bad) {
    const key = errorKey(c.raw, `${pad(c.seq)}-schema${c.n ? `-${c.n}` : ''}`, c.now)
    await store.putFile(key, unfit)
    warnings.push(
      `${o.name}: ${fitted.bad} rows did not fit the table's schema (${c.policy}); set aside in ${key}`,
    )
  }
  // Dedupe against what the table holds, in the partitions this batch touches.
  const stats = new Map(fitted.stats)
  const files = new Map<string, string>() // lake key → local file
  for (const f of fitted.written) files.set(joinKey(o.location, relative(base, f).split(sep).join('/')), f)
  const gone: string[] = []
  if (o.keys.length) {
    const touched = new Set([...files.keys()].map(hivePartition))
    const old = o.live.filter((k) => touched.has(hivePartition(k)))
    if (old.length) {
      const merged = join(c.stage, `merged-${c.n}`)
      const mergedDts = new Set(old.map(hivePartition))
      const fresh = [...files].filter(([k]) => mergedDts.has(hivePartition(k)))
      const result = await mergePartitions(
        engine,
        fresh.map(([, f]) => f),
        await localize(store, await infos(store, old), join(c.stage, 'in')),
        merged,
        c.seq,
        o.parentKeys ?? o.keys,
        c.partitioned,
        ids,
      )
      for (const [k] of fresh) files.delete(k)
      for (const [f, s] of result) {
        files.set(joinKey(o.location, relative(merged, f).split(sep).join('/')), f)
        stats.set(f, s)
      }
      gone.push(...old.filter((k) => !files.has(k)))
    }
  }
  for (const [key, f] of files) {
    await store.putFile(key, f)
    bytes += stats.get(f)?.bytes ?? (await stat(f)).size
  }
  const drop = new Set(gone)
  return {
    plan,
    ok: fitted.ok,
    bad: fitted.bad,
    files: [...new Set([...o.live.filter((k) => !drop.has(k)), ...files.keys()])].sort(),
    written: [...files.keys()],
    stats: new Map([...files].flatMap(([key, f]) => (stats.has(f) ? [[key, stats.get(f)!] as const] : []))),
    gone,
    bytes,
    published: files.size,
    warnings,
  }
}

/** One batch's outputs written in turn; the trusted table's own rows are the batch's records. */
export async function writeOutputs(
  store: ObjectStore,
  engine: Engine,
  outputs: readonly Output[],
  c: BatchContext,
) {
  const total = {
    ok: 0,
    bad: 0,
    bytes: 0,
    published: 0,
    replaced: [] as string[],
    warnings: [] as string[],
    done: [] as {
      o: Output
      plan: SchemaPlan
      files: string[]
      written: string[]
      gone: string[]
      stats: FileStats
    }[],
  }
  for (const [n, o] of outputs.entries()) {
    const w = await writeOutput(store, engine, o, { ...c, n })
    if (n === 0) {
      total.ok = w.ok
      total.bad = w.bad
    }
    total.warnings.push(...w.warnings)
    total.bytes += w.bytes
    total.published += w.published
    total.replaced.push(...w.gone)
    total.done.push({ o, plan: w.plan, files: w.files, written: w.written, gone: w.gone, stats: w.stats })
  }
  return total
}
