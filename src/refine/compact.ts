import { mkdir, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { listTables, putTable, type TableEntry } from '../catalog/catalog.js'
import { caughtUp, commitFiles, fieldIdsFor } from '../catalog/iceberg/mirror.js'
import { hivePartition } from '../core/paths.js'
import { type Engine, sqlList, sqlString } from '../engine/engine.js'
import { localize } from '../engine/localize.js'
import { fieldIdsClause } from '../engine/parquet.js'
import { joinKey, type ObjectStore } from '../storage/storage.js'
import { infos, liveFiles } from './files.js'

export interface CompactResult {
  readonly table: string
  readonly partitions: number
  readonly filesBefore: number
  readonly filesAfter: number
}

/**
 * `weir refine --compact`: in each trusted table, rewrites each partition's small files (under
 * `targetBytes`, default 128 MB) as files of about that size. The new files are swapped in (an
 * Iceberg replace commit, or the catalog entry) before the old ones go, so readers never see both.
 */
export async function compact(
  store: ObjectStore,
  engine: Engine,
  opts: { readonly stagingDir: string; readonly targetBytes?: number; readonly only?: readonly string[] },
): Promise<CompactResult[]> {
  const target = opts.targetBytes ?? 128 * 1024 * 1024
  const out: CompactResult[] = []
  for (const listed of await listTables(store, 'trusted')) {
    if (listed.format !== 'parquet' || (opts.only && !opts.only.includes(listed.name))) continue
    const t = (await caughtUp(store, engine, listed))!
    const live = await liveFiles(store, t.location, t)
    const sizes = new Map((await infos(store, live)).map((o) => [o.key, o]))
    const byPartition = new Map<string, string[]>()
    for (const k of live) {
      if ((sizes.get(k)?.size ?? 0) >= target) continue
      const list = byPartition.get(hivePartition(k)) ?? []
      list.push(k)
      byPartition.set(hivePartition(k), list)
    }
    const fieldIds = t.iceberg
      ? await fieldIdsFor(store, t.location, t.columns, t.partitioning[0])
      : undefined
    const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14)
    const replaced: string[] = []
    const added: string[] = []
    let partitions = 0
    for (const [partition, files] of byPartition) {
      if (files.length < 2) continue
      partitions++
      const stage = join(opts.stagingDir, `compact-${t.name}-${partitions}`)
      await rm(stage, { recursive: true, force: true })
      await mkdir(stage, { recursive: true })
      try {
        // A remote lake's files come down into the stage, gone with it: temp disk is one partition's.
        const local = await localize(
          store,
          files.map((k) => sizes.get(k)!),
          `${stage}-in`,
        )
        // The new files go back into the same folder. An Iceberg table's hold the partition column
        // too (from the folder name, for files written before they did); a Hive table's do not.
        const rows = `SELECT * FROM read_parquet(${sqlList(local)}, hive_partitioning = ${t.iceberg ? 'true' : 'false'}, union_by_name = true)`
        const ids = await fieldIdsClause(engine, rows, fieldIds)
        await engine.run(
          `COPY (${rows}) TO ${sqlString(stage)} (FORMAT parquet, COMPRESSION snappy, FILE_SIZE_BYTES ${target},
           FILENAME_PATTERN ${sqlString(`part-c${stamp}-{i}`)}, OVERWRITE_OR_IGNORE${ids})`,
        )
        const folder = partition ? joinKey(t.location, partition) : t.location.replace(/\/$/, '')
        for (const f of (await readdir(stage)).sort()) {
          const key = joinKey(folder, f)
          await store.putFile(key, join(stage, f))
          added.push(key)
        }
        replaced.push(...files)
      } finally {
        await rm(stage, { recursive: true, force: true })
        await rm(`${stage}-in`, { recursive: true, force: true })
      }
    }
    if (replaced.length) await swap(store, engine, t, live, added, replaced)
    out.push({
      table: t.name,
      partitions,
      filesBefore: live.length,
      filesAfter: live.length - replaced.length + added.length,
    })
  }
  return out
}

/** Swaps a compaction's files in: an Iceberg table's in a replace commit, another's in its entry. */
async function swap(
  store: ObjectStore,
  engine: Engine,
  t: TableEntry,
  live: readonly string[],
  added: readonly string[],
  replaced: readonly string[],
): Promise<void> {
  const updatedAt = new Date().toISOString()
  // An Iceberg table's replaced files stay for readers of older snapshots, until `weir maintain`.
  if (t.iceberg) {
    await commitFiles(
      store,
      engine,
      { ...t, updatedAt },
      { written: added, removed: replaced, rewrite: 'replace' },
    )
    return
  }
  const gone = new Set(replaced)
  await putTable(store, { ...t, files: [...live.filter((k) => !gone.has(k)), ...added].sort(), updatedAt })
  for (const k of replaced) await store.delete(k)
}
