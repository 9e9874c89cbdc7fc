import { WeirError } from '../../core/errors.js'
import { joinKey, type ObjectStore } from '../../storage/storage.js'
import { type ManifestEntry, type ManifestFile, readManifest, readManifestList } from './manifest.js'
import { type TableMetadata, uriOf } from './metadata.js'

export interface LoadedTable {
  readonly metadata: TableMetadata
  readonly version: number
}

export const metadataKey = (location: string, v: number) =>
  joinKey(location, 'metadata', `v${v}.metadata.json`)

export const metadataError = { code: 'ICEBERG_METADATA', stage: 'refine' } as const

/**
 * The table's current metadata: the highest `v<N>.metadata.json` there is, found from
 * `version-hint.text` (which a crash may leave behind by one) by looking for the next ones.
 */
export async function loadTable(store: ObjectStore, location: string): Promise<LoadedTable | undefined> {
  // The version this process last read or committed, if its file is still there, saves reading
  // the hint and the metadata again (a metadata file never changes once written).
  const id = `${store.uri}|${location}`
  const known = lastLoaded.get(id)
  let v: number
  if (known && (await store.head(metadataKey(location, known.version)))) v = known.version
  else {
    const hint = await store.getBytes(joinKey(location, 'metadata', 'version-hint.text'))
    v = hint ? Number(Buffer.from(hint).toString('utf8').trim()) || 0 : 0
  }
  while (await store.head(metadataKey(location, v + 1))) v++
  if (v === 0) return undefined
  if (known?.version === v) return known
  const bytes = await store.getBytes(metadataKey(location, v))
  if (!bytes) throw new WeirError(`iceberg table ${location}: v${v}.metadata.json vanished`, metadataError)
  const table = { metadata: JSON.parse(Buffer.from(bytes).toString('utf8')) as TableMetadata, version: v }
  rememberTable(store, location, table)
  return table
}

const lastLoaded = new Map<string, LoadedTable>()

/** Keeps the table's newest version as this process knows it (read, or just committed). */
export function rememberTable(store: ObjectStore, location: string, table: LoadedTable): void {
  const id = `${store.uri}|${location}`
  lastLoaded.delete(id)
  lastLoaded.set(id, table)
  if (lastLoaded.size > 1_000) lastLoaded.delete(lastLoaded.keys().next().value!)
}

/**
 * Whether the table's metadata was written at another place (a lake copied or moved): its file
 * paths are absolute, so none of them is this lake's, and its history cannot be read here.
 */
export function moved(store: ObjectStore, location: string, m: TableMetadata): boolean {
  return m.location.replace(/\/+$/, '') !== uriOf(store, location).replace(/\/+$/, '')
}

/** The key of a file this store holds, from its URI in the metadata. */
export function keyOf(store: ObjectStore, uri: string): string {
  const root = uriOf(store, '')
  if (!uri.startsWith(root))
    throw new WeirError(`iceberg: ${uri} is outside the lake ${store.uri}`, metadataError)
  return uri.slice(root.length).replace(/^\/+/, '')
}

/** Turns a URI of a table's metadata into a key of this store. */
export type Resolve = (uri: string) => string

/**
 * How to find the files a table's metadata names: by their URIs, or, in a lake copied or moved
 * (the URIs name the old place), the same path under the table's location here.
 */
export function resolver(store: ObjectStore, location: string, m: TableMetadata): Resolve {
  if (!moved(store, location, m)) return (uri) => keyOf(store, uri)
  const old = `${m.location.replace(/\/+$/, '')}/`
  return (uri) => (uri.startsWith(old) ? joinKey(location, uri.slice(old.length)) : keyOf(store, uri))
}

/** The manifests of a snapshot (the current one by default; none before the first). */
export async function manifestsOf(
  store: ObjectStore,
  m: TableMetadata,
  snapshotId = m['current-snapshot-id'],
  resolve: Resolve = (uri) => keyOf(store, uri),
): Promise<ManifestFile[]> {
  const snap = m.snapshots.find((s) => s['snapshot-id'] === snapshotId)
  if (!snap) return []
  const hit = lists.get(`${store.uri}|${snap['manifest-list']}`)
  if (hit) return [...hit]
  const bytes = await store.getBytes(resolve(snap['manifest-list']))
  if (!bytes) throw new WeirError(`iceberg: manifest list ${snap['manifest-list']} is missing`, metadataError)
  const read = await readManifestList(bytes)
  primeList(store, snap['manifest-list'], read)
  return [...read]
}

/** Manifest lists by URI (they never change either), as read or as just written. */
const lists = new Map<string, readonly ManifestFile[]>()
export function primeList(store: ObjectStore, uri: string, manifests: readonly ManifestFile[]): void {
  lists.set(`${store.uri}|${uri}`, manifests)
  if (lists.size > 1_000) lists.delete(lists.keys().next().value!)
}

/** A manifest's entries, deleted ones included. */
export async function entriesOf(
  store: ObjectStore,
  mf: ManifestFile,
  resolve: Resolve = (uri) => keyOf(store, uri),
): Promise<readonly ManifestEntry[]> {
  const hit = manifestCache.get(`${store.uri}|${mf.path}`)
  if (hit) return hit
  const bytes = await store.getBytes(resolve(mf.path))
  if (!bytes) throw new WeirError(`iceberg: manifest ${mf.path} is missing`, metadataError)
  return primeManifest(store, mf, await readManifest(bytes, mf))
}

/**
 * Manifests never change once written, and each commit reads its parent's: the entries of recent
 * ones stay in memory, up to a budget of entries (the oldest go first), including those this
 * process just wrote, so a writer's next commit reads none back.
 */
const manifestCache = new Map<string, readonly ManifestEntry[]>()
const ENTRY_BUDGET = 200_000
let cachedEntries = 0

/** Keeps a manifest's entries (as read, or as just written). */
export function primeManifest(
  store: ObjectStore,
  mf: ManifestFile,
  entries: readonly ManifestEntry[],
): readonly ManifestEntry[] {
  manifestCache.set(`${store.uri}|${mf.path}`, entries)
  cachedEntries += entries.length
  for (const [key, old] of manifestCache) {
    if (cachedEntries <= ENTRY_BUDGET) break
    manifestCache.delete(key)
    cachedEntries -= old.length
  }
  return entries
}
