import type { Engine } from '../../engine/engine.js'
import type { ObjectStore } from '../../storage/storage.js'
import { putTable, type TableEntry } from '../catalog.js'
import { snapshotKeys } from './live.js'
import { mirrorIceberg } from './mirror.js'

export interface MigrateResult {
  readonly table: string
  readonly from: 'parquet' | 'iceberg'
  readonly to: 'parquet' | 'iceberg'
  readonly files: number
}

/**
 * Converts a trusted table in place, its data files untouched. To Iceberg: one commit of every
 * live file, whose columns the table's name mapping gives ids (the files were written without
 * them), `dt` from each file's folder. To Parquet: the Iceberg metadata is deleted, so no engine
 * reads a snapshot nothing follows any more; the files older snapshots kept go at the next refine.
 */
export async function migrateTable(
  store: ObjectStore,
  engine: Engine,
  t: TableEntry,
  to: 'parquet' | 'iceberg',
  retentionMs?: number,
): Promise<MigrateResult> {
  const from: MigrateResult['from'] = t.iceberg ? 'iceberg' : 'parquet'
  const done: MigrateResult = { table: t.name, from, to, files: 0 }
  if (from === to) return { ...done, files: (await liveList(store, t)).length }
  if (to === 'iceberg') {
    const { icebergSnapshot: _, icebergMetadata: __, ...rest } = t
    // A table refined before the catalog listed its files: its folder's Parquet files are live.
    const files = t.files ? [...t.files] : []
    if (!t.files)
      for await (const o of store.list(t.location)) if (o.key.endsWith('.parquet')) files.push(o.key)
    const entry = { ...rest, files, iceberg: true, updatedAt: new Date().toISOString() }
    await mirrorIceberg(store, engine, entry, retentionMs === undefined ? {} : { retentionMs })
    return { ...done, files: files.length }
  }
  // The snapshot's files become the catalog's list, which a Hive-style table's readers follow.
  const files = await liveList(store, t)
  const { iceberg: _, icebergSnapshot: __, icebergMetadata: ___, ...rest } = t
  await putTable(store, { ...rest, files, updatedAt: new Date().toISOString() })
  await dropMetadata(store, t.location)
  return { ...done, files: files.length }
}

const liveList = async (store: ObjectStore, t: TableEntry) =>
  (t.iceberg ? await snapshotKeys(store, t) : undefined) ?? [...(t.files ?? [])]

/** Deletes a table's Iceberg metadata (`<location>/metadata/`): no engine reads a history nothing follows. */
export async function dropMetadata(store: ObjectStore, location: string): Promise<void> {
  for await (const o of store.list(`${location.replace(/\/+$/, '')}/metadata/`)) await store.delete(o.key)
}
