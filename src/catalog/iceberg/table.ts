import { WeirError } from '../../core/errors.js'
import { joinKey, type ObjectStore } from '../../storage/storage.js'
import type { Column } from '../catalog.js'
import type { DataFile } from './manifest.js'
import { newMetadata, type TableMetadata, uriOf, withColumns, withSnapshot } from './metadata.js'
import { type LoadedTable, loadTable, metadataKey, moved, rememberTable } from './read.js'
import { writeSnapshot } from './snapshot.js'

export { liveFiles } from './live.js'
export { loadTable, manifestsOf } from './read.js'

/** What one commit does: files added and files (by URI) removed, and the table's columns after it. */
export interface Change {
  /** `append` adds only; `overwrite` replaces rows (a dedupe); `replace` the same rows in other files (compaction). */
  readonly operation: 'append' | 'overwrite' | 'replace' | 'delete'
  readonly add: readonly DataFile[]
  readonly remove: readonly string[]
  readonly columns: readonly Column[]
  /** For a new table: the column its files are partitioned by (identity). */
  readonly partitionBy?: string
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
export async function commit(
  store: ObjectStore,
  location: string,
  change: Change,
  /** Written once the commit has landed, beside the hint (the catalog entry naming the snapshot). */
  alongside?: (done: { snapshotId: number; key: string }) => Promise<void>,
) {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const loaded = await loadTable(store, location)
    const base = withColumns(
      loaded
        ? relocated(store, location, loaded.metadata)
        : newMetadata(store, location, change.columns, change.partitionBy),
      change.columns,
    )
    const version = (loaded?.version ?? 0) + 1
    const { snapshot } = await writeSnapshot(store, location, base, change)
    const previous = loaded && uriOf(store, metadataKey(location, loaded.version))
    const committed = finish(withSnapshot(base, snapshot, previous), change)
    const body = `${JSON.stringify(committed, null, 2)}\n`
    if (await store.putIfMatch(metadataKey(location, version), body, null)) {
      // The commit is done: the hint, the metadata version let go and the caller's own write
      // follow side by side. A hint left behind by a crash only costs a reader a look ahead.
      rememberTable(store, location, { metadata: committed, version })
      const done = {
        version,
        snapshotId: snapshot['snapshot-id'],
        parentId: base['current-snapshot-id'],
        key: metadataKey(location, version),
      }
      await Promise.all([
        store.put(joinKey(location, 'metadata', 'version-hint.text'), String(version)),
        ...dropped(location, loaded, version).map((k) => store.delete(k)),
        alongside?.(done),
      ])
      return done
    }
  }
  throw new WeirError(`iceberg table ${location}: ${ATTEMPTS} commits in a row lost to other writers`, {
    code: 'ICEBERG_COMMIT',
    stage: 'refine',
    retryable: true,
  })
}

/**
 * The metadata of a table whose lake was copied or moved, made this place's: its schemas, ids and
 * spec kept, its history (absolute paths to the old place) dropped; the next commit lists every file.
 */
function relocated(store: ObjectStore, location: string, m: TableMetadata): TableMetadata {
  if (!moved(store, location, m)) return m
  return {
    ...m,
    location: uriOf(store, location),
    'current-snapshot-id': -1,
    refs: {},
    snapshots: [],
    'snapshot-log': [],
    'metadata-log': [],
  }
}

/** Iceberg's defaults for the properties Weir honours (the spec's table properties). */
const DEFAULTS = {
  'history.expire.max-snapshot-age-ms': 5 * 86_400_000,
  'write.metadata.previous-versions-max': 100,
}
const property = (m: TableMetadata, name: keyof typeof DEFAULTS) =>
  Number(m.properties[name] ?? DEFAULTS[name])

/**
 * The committed metadata with the change's properties and the table's retention applied: snapshots
 * older than `history.expire.max-snapshot-age-ms` expire (the current one never does), and the
 * metadata log keeps `write.metadata.previous-versions-max` versions. The files only expired
 * snapshots used stay until `weir maintain`: a reader may still be reading them.
 */
function finish(m: TableMetadata, change: Change): TableMetadata {
  const withProps = { ...m, properties: { ...m.properties, ...change.properties?.(m) } }
  return expireSnapshots(withProps, m['last-updated-ms'])
}

/** How long the table keeps a replaced snapshot: its `history.expire.max-snapshot-age-ms`. */
export const retentionOf = (m: TableMetadata) => property(m, 'history.expire.max-snapshot-age-ms')

/** The metadata without the snapshots its retention has expired at `now`, and a bounded metadata log. */
export function expireSnapshots(m: TableMetadata, now: number, retention = retentionOf(m)): TableMetadata {
  const oldest = now - retention
  const kept = m.snapshots.filter(
    (s) => s['timestamp-ms'] >= oldest || s['snapshot-id'] === m['current-snapshot-id'],
  )
  const ids = new Set(kept.map((s) => s['snapshot-id']))
  return {
    ...m,
    snapshots: kept,
    'snapshot-log': m['snapshot-log'].filter((e) => ids.has(e['snapshot-id'])),
    // Bounded, as Iceberg's write.metadata.previous-versions-max: it is written at every commit.
    'metadata-log': m['metadata-log'].slice(-property(m, 'write.metadata.previous-versions-max')),
  }
}

/**
 * The metadata files a commit of `version` let go (write.metadata.delete-after-commit): those past
 * the log's bound. Nothing reads them: a reader finds the current version from the hint or the log.
 */
function dropped(location: string, loaded: LoadedTable | undefined, version: number): string[] {
  if (!loaded) return []
  const v = version - property(loaded.metadata, 'write.metadata.previous-versions-max') - 1
  return v >= 1 ? [metadataKey(location, v)] : []
}
