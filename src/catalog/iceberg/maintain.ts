import { WeirError } from '../../core/errors.js'
import { joinKey, type ObjectStore } from '../../storage/storage.js'
import { listTables, type TableEntry } from '../catalog.js'
import { snapshotKeys } from './live.js'
import type { ManifestFile } from './manifest.js'
import { type TableMetadata, uriOf } from './metadata.js'
import { entriesOf, keyOf, loadTable, manifestsOf, metadataKey, moved } from './read.js'
import { expireSnapshots, retentionOf } from './table.js'

export interface MaintainResult {
  readonly table: string
  /** Snapshots expired now (past the retention). */
  readonly expired: number
  /** Snapshots kept: the current one and those still within the retention. */
  readonly snapshots: number
  /** Files deleted: data, manifests, manifest lists and metadata no kept snapshot uses. */
  readonly deleted: number
  readonly bytes: number
}

/**
 * Iceberg's two maintenance steps for one table, as `expire_snapshots` and `remove_orphan_files`:
 * snapshots older than the retention leave the metadata (the current one never does), then every
 * file in the table's folder that no kept snapshot, metadata version or catalog entry uses is
 * deleted, if it is older than the retention too: a writer's files are not referred to until it
 * commits, and a reader of a snapshot that just expired may still be reading.
 */
export async function maintainTable(
  store: ObjectStore,
  entry: TableEntry,
  opts: { readonly now?: number; readonly retentionMs?: number } = {},
): Promise<MaintainResult> {
  const now = opts.now ?? Date.now()
  const done = { table: entry.name, expired: 0, snapshots: 0, deleted: 0, bytes: 0 }
  let loaded = await loadTable(store, entry.location)
  // A lake copied or moved: its next refine rewrites the history here first.
  if (!loaded || moved(store, entry.location, loaded.metadata)) return done
  const retention = opts.retentionMs ?? retentionOf(loaded.metadata)
  for (let attempt = 0; ; attempt++) {
    const m = loaded.metadata
    const previous = {
      'timestamp-ms': m['last-updated-ms'],
      'metadata-file': uriOf(store, metadataKey(entry.location, loaded.version)),
    }
    const next = expireSnapshots({ ...m, 'metadata-log': [...m['metadata-log'], previous] }, now, retention)
    done.expired = m.snapshots.length - next.snapshots.length
    if (done.expired === 0) break
    const version = loaded.version + 1
    const body = `${JSON.stringify({ ...next, 'last-updated-ms': now }, null, 2)}\n`
    if (await store.putIfMatch(metadataKey(entry.location, version), body, null)) {
      await store.put(joinKey(entry.location, 'metadata', 'version-hint.text'), String(version))
      loaded = { metadata: next, version }
      break
    }
    if (attempt === 9)
      throw new WeirError(`iceberg table ${entry.location}: maintenance lost 10 commits in a row`, {
        code: 'ICEBERG_COMMIT',
        stage: 'catalog',
        retryable: true,
      })
    loaded = (await loadTable(store, entry.location))!
  }
  done.snapshots = loaded.metadata.snapshots.length
  const used = await usedFiles(store, loaded.metadata, entry)
  used.add(metadataKey(entry.location, loaded.version))
  const folder = `${entry.location.replace(/\/+$/, '')}/`
  for await (const o of store.list(folder)) {
    if (used.has(o.key) || !/\.(parquet|avro|metadata\.json)$/.test(o.key)) continue
    if (o.lastModified.getTime() > now - retention) continue
    await store.delete(o.key)
    done.deleted++
    done.bytes += o.size
  }
  return done
}

/** Every file the kept snapshots, the metadata log and the catalog entry refer to, as keys. */
async function usedFiles(store: ObjectStore, m: TableMetadata, entry: TableEntry): Promise<Set<string>> {
  // What Weir's views read: the snapshot the entry names, even one expired (a crash between a
  // commit and the entry's write leaves the entry behind until the table's next write).
  const used = new Set<string>([
    ...(entry.files ?? []),
    ...(entry.icebergMetadata ? [entry.icebergMetadata] : []),
    ...((await snapshotKeys(store, entry)) ?? []),
  ])
  for (const log of m['metadata-log']) used.add(keyOf(store, log['metadata-file']))
  // Kept snapshots share most manifests: each is read once.
  const seen = new Map<string, ManifestFile>()
  for (const s of m.snapshots) {
    used.add(keyOf(store, s['manifest-list']))
    for (const mf of await manifestsOf(store, m, s['snapshot-id'])) seen.set(mf.path, mf)
  }
  for (const mf of seen.values()) {
    used.add(keyOf(store, mf.path))
    for (const e of await entriesOf(store, mf)) if (e.status !== 2) used.add(keyOf(store, e.file.path))
  }
  return used
}

/** `weir maintain`: every Iceberg table, trusted and refined (or those named), one after another. */
export async function maintainLake(
  store: ObjectStore,
  opts: { readonly only?: readonly string[]; readonly retentionMs?: number; readonly now?: number } = {},
): Promise<MaintainResult[]> {
  const out: MaintainResult[] = []
  for (const t of await listTables(store)) {
    if (!t.iceberg || (opts.only && !opts.only.includes(t.name))) continue
    out.push(await maintainTable(store, t, opts))
  }
  return out
}
