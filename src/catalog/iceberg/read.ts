import { WeirError } from '../../core/errors.js'
import { joinKey, type ObjectStore } from '../../storage/storage.js'
import {
  type DataFile,
  type ManifestEntry,
  type ManifestFile,
  readManifest,
  readManifestList,
} from './manifest.js'
import { type TableMetadata, uriOf } from './metadata.js'

export interface LoadedTable {
  readonly metadata: TableMetadata
  readonly version: number
}

export const metadataKey = (location: string, v: number) =>
  joinKey(location, 'metadata', `v${v}.metadata.json`)

const metadataError = { code: 'ICEBERG_METADATA', stage: 'refine' } as const

/**
 * The table's current metadata: the highest `v<N>.metadata.json` there is, found from
 * `version-hint.text` (which a crash may leave behind by one) by looking for the next ones.
 */
export async function loadTable(store: ObjectStore, location: string): Promise<LoadedTable | undefined> {
  const hint = await store.getBytes(joinKey(location, 'metadata', 'version-hint.text'))
  let v = hint ? Number(Buffer.from(hint).toString('utf8').trim()) || 0 : 0
  while (await store.head(metadataKey(location, v + 1))) v++
  if (v === 0) return undefined
  const bytes = await store.getBytes(metadataKey(location, v))
  if (!bytes) throw new WeirError(`iceberg table ${location}: v${v}.metadata.json vanished`, metadataError)
  return { metadata: JSON.parse(Buffer.from(bytes).toString('utf8')) as TableMetadata, version: v }
}

/** The key of a file this store holds, from its URI in the metadata. */
export function keyOf(store: ObjectStore, uri: string): string {
  const root = uriOf(store, '')
  if (!uri.startsWith(root))
    throw new WeirError(`iceberg: ${uri} is outside the lake ${store.uri}`, metadataError)
  return uri.slice(root.length).replace(/^\/+/, '')
}

/** The manifests of a snapshot (the current one by default; none before the first). */
export async function manifestsOf(
  store: ObjectStore,
  m: TableMetadata,
  snapshotId = m['current-snapshot-id'],
): Promise<ManifestFile[]> {
  const snap = m.snapshots.find((s) => s['snapshot-id'] === snapshotId)
  if (!snap) return []
  const bytes = await store.getBytes(keyOf(store, snap['manifest-list']))
  if (!bytes) throw new WeirError(`iceberg: manifest list ${snap['manifest-list']} is missing`, metadataError)
  return readManifestList(bytes)
}

/** A manifest's entries, deleted ones included. */
export async function entriesOf(store: ObjectStore, mf: ManifestFile): Promise<ManifestEntry[]> {
  const bytes = await store.getBytes(keyOf(store, mf.path))
  if (!bytes) throw new WeirError(`iceberg: manifest ${mf.path} is missing`, metadataError)
  return readManifest(bytes, mf)
}

/** The data files of a snapshot (the current one by default): what a reader of it reads. */
export async function liveFiles(
  store: ObjectStore,
  m: TableMetadata,
  snapshotId?: number,
): Promise<DataFile[]> {
  const out: DataFile[] = []
  for (const mf of await manifestsOf(store, m, snapshotId))
    for (const e of await entriesOf(store, mf)) if (e.status !== 2) out.push(e.file)
  return out
}
