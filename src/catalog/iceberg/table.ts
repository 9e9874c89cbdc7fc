import { WeirError } from '../../core/errors.js'
import { joinKey, type ObjectStore } from '../../storage/storage.js'
import type { Column } from '../catalog.js'
import type { DataFile } from './manifest.js'
import { newMetadata, type TableMetadata, uriOf, withColumns, withSnapshot } from './metadata.js'
import { keyOf, loadTable, metadataKey } from './read.js'
import { writeSnapshot } from './snapshot.js'

export { liveFiles, loadTable, manifestsOf } from './read.js'

/** What one commit does: files added and files (by URI) removed, and the table's columns after it. */
export interface Change {
  /** `append` adds only; `overwrite` replaces rows (a dedupe); `replace` the same rows in other files (compaction). */
  readonly operation: 'append' | 'overwrite' | 'replace' | 'delete'
  readonly add: readonly DataFile[]
  readonly remove: readonly string[]
  readonly columns: readonly Column[]
  /** For a new table: the column its files are partitioned by (identity). */
  readonly partitionBy?: string
  /** Snapshots to keep, newest first (default: all): older ones are expired from the metadata. */
  readonly keepSnapshots?: number
  /** Table properties to set, from the metadata about to be committed. */
  readonly properties?: (m: TableMetadata) => Readonly<Record<string, string>>
}

const ATTEMPTS = 10

/**
 * Commits one change atomically: new manifests and a manifest list first, then the next metadata
 * version, created only if absent (so of two writers one wins, and the other builds its change
 * again on the winner's, up to ten times). Until that create, readers see the previous snapshot;
 * a crash before it leaves only files nothing refers to.
 */
export async function commit(store: ObjectStore, location: string, change: Change) {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const loaded = await loadTable(store, location)
    const base = withColumns(
      loaded?.metadata ?? newMetadata(store, location, change.columns, change.partitionBy),
      change.columns,
    )
    const version = (loaded?.version ?? 0) + 1
    const { snapshot, parents, manifests } = await writeSnapshot(store, location, base, change)
    const previous = loaded && uriOf(store, metadataKey(location, loaded.version))
    const body = `${JSON.stringify(finish(withSnapshot(base, snapshot, previous), change), null, 2)}\n`
    if (await store.putIfMatch(metadataKey(location, version), body, null)) {
      const kept = new Set(manifests.map((m) => m.path))
      // With one snapshot kept, what only the one before used goes now: its manifest list, the
      // manifests this commit rewrote or merged, and the metadata version before it.
      const gone =
        change.keepSnapshots === 1 && loaded
          ? [
              ...parents.filter((m) => !kept.has(m.path)).map((m) => keyOf(store, m.path)),
              ...loaded.metadata.snapshots.map((s) => keyOf(store, s['manifest-list'])),
              ...(loaded.version > 1 ? [metadataKey(location, loaded.version - 1)] : []),
            ]
          : []
      await Promise.all([
        store.put(joinKey(location, 'metadata', 'version-hint.text'), String(version)),
        ...gone.map((k) => store.delete(k)),
      ])
      return { version, snapshotId: snapshot['snapshot-id'] }
    }
  }
  throw new WeirError(`iceberg table ${location}: ${ATTEMPTS} commits in a row lost to other writers`, {
    code: 'ICEBERG_COMMIT',
    stage: 'refine',
    retryable: true,
  })
}

/** The committed metadata with the change's properties and snapshot retention applied. */
function finish(m: TableMetadata, change: Change): TableMetadata {
  const kept = change.keepSnapshots ? m.snapshots.slice(-change.keepSnapshots) : m.snapshots
  const ids = new Set(kept.map((s) => s['snapshot-id']))
  return {
    ...m,
    properties: { ...m.properties, ...change.properties?.(m) },
    snapshots: kept,
    'snapshot-log': m['snapshot-log'].filter((e) => ids.has(e['snapshot-id'])),
    // Bounded, as Iceberg's write.metadata.previous-versions-max: it is written at every commit.
    'metadata-log': m['metadata-log'].slice(change.keepSnapshots === 1 ? -1 : -100),
  }
}
