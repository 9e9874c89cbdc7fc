import { WeirError } from '../../core/errors.js'
import type { ObjectStore } from '../../storage/storage.js'
import type { TableEntry } from '../catalog.js'
import type { DataFile } from './manifest.js'
import type { TableMetadata } from './metadata.js'
import { entriesOf, keyOf, loadTable, manifestsOf, metadataError, type Resolve, resolver } from './read.js'

/** The data files of a snapshot (the current one by default): what a reader of it reads. */
export async function liveFiles(
  store: ObjectStore,
  m: TableMetadata,
  snapshotId?: number,
  resolve?: Resolve,
): Promise<DataFile[]> {
  const out: DataFile[] = []
  for (const mf of await manifestsOf(store, m, snapshotId, resolve))
    for (const e of await entriesOf(store, mf, resolve)) if (e.status !== 2) out.push(e.file)
  return out
}

/** The keys of a snapshot's data files (the current one by default), at this place. */
export async function liveKeys(
  store: ObjectStore,
  location: string,
  m: TableMetadata,
  snapshotId?: number,
): Promise<string[]> {
  const resolve = resolver(store, location, m)
  return (await liveFiles(store, m, snapshotId, resolve)).map((f) => resolve(f.path))
}

/**
 * The live files of a table's current snapshot by key, as a writer needs them at every commit:
 * read from the manifests once per process, then carried from each commit this process makes to
 * the next (`carryIndex`), so a commit does not walk every file the table has.
 */
export async function liveIndex(
  store: ObjectStore,
  location: string,
  m: TableMetadata,
): Promise<ReadonlyMap<string, DataFile>> {
  const id = `${store.uri}|${location}`
  const snapshot = m['current-snapshot-id']
  const hit = indexes.get(id)
  if (hit?.snapshot === snapshot) return hit.files
  const resolve = resolver(store, location, m)
  const files = new Map<string, DataFile>()
  for (const f of await liveFiles(store, m, undefined, resolve)) files.set(resolve(f.path), f)
  indexes.delete(id)
  indexes.set(id, { snapshot, files })
  if (indexes.size > 1_000) indexes.delete(indexes.keys().next().value!)
  return files
}

const indexes = new Map<string, { snapshot: number; files: Map<string, DataFile> }>()

/** Moves a table's index to the snapshot just committed on `parent`, if it was at the parent. */
export function carryIndex(
  store: ObjectStore,
  location: string,
  commit: { readonly parentId: number; readonly snapshotId: number },
  removed: readonly string[],
  added: readonly DataFile[],
): void {
  const id = `${store.uri}|${location}`
  const hit = indexes.get(id)
  if (hit?.snapshot !== commit.parentId) {
    indexes.delete(id)
    return
  }
  for (const k of removed) hit.files.delete(k)
  for (const f of added) hit.files.set(keyOf(store, f.path), f)
  hit.snapshot = commit.snapshotId
}

/** Which snapshot a time-travel query reads: the one current at a time (ms), or one by id. */
export type AsOf = { readonly at: number } | { readonly snapshot: number }

const CACHED = 1_000
const cache = new Map<string, unknown>()
/** Metadata files never change once written: views read each once per process. */
async function cached<T>(key: string, read: () => Promise<T>): Promise<T> {
  if (cache.has(key)) return cache.get(key) as T
  const value = await read()
  if (cache.size >= CACHED) cache.delete(cache.keys().next().value!)
  cache.set(key, value)
  return value
}

/**
 * The keys of the data files a reader of a table's snapshot reads: the snapshot its catalog entry
 * names (from the metadata file the entry names), or with `asOf` the one current then. Undefined
 * when the entry is one an older Weir wrote with its own file list and no snapshot yet, or when no
 * kept snapshot has the id asked for. A time before the table's first snapshot reads no files.
 */
export async function snapshotKeys(
  store: ObjectStore,
  entry: Pick<TableEntry, 'zone' | 'name' | 'location' | 'icebergSnapshot' | 'icebergMetadata' | 'files'>,
  asOf?: AsOf,
): Promise<string[] | undefined> {
  let m: TableMetadata
  let id: number | undefined
  const key = entry.icebergMetadata
  if (asOf) {
    const loaded = await loadTable(store, entry.location)
    if (!loaded) return undefined
    m = loaded.metadata
    id = 'snapshot' in asOf ? asOf.snapshot : snapshotAt(m, asOf.at, `${entry.zone}.${entry.name}`)
    if (id === -1) return []
    if (!m.snapshots.some((s) => s['snapshot-id'] === id)) return undefined
  } else if (entry.icebergSnapshot === undefined || !key) {
    if (entry.files) return undefined
    // Never committed, or named by no entry yet: the table's own current snapshot, if any.
    const loaded = await loadTable(store, entry.location)
    return loaded ? liveKeys(store, entry.location, loaded.metadata) : []
  } else {
    m = await cached(`${store.uri}|${key}`, async () => {
      const bytes = await store.getBytes(key)
      if (!bytes) throw new WeirError(`iceberg: ${key} is missing`, metadataError)
      return JSON.parse(Buffer.from(bytes).toString('utf8')) as TableMetadata
    })
    id = entry.icebergSnapshot
  }
  return liveKeys(store, entry.location, m, id)
}

/** The snapshot current at `at`; -1 before the table's first; an error when it has expired. */
function snapshotAt(m: TableMetadata, at: number, table: string): number {
  const before = m['snapshot-log'].filter((e) => e['timestamp-ms'] <= at).at(-1)
  if (before) return before['snapshot-id']
  const oldest = m.snapshots[0]
  if (!oldest || oldest['parent-snapshot-id'] === undefined) return -1
  throw new WeirError(
    `${table}: no snapshot kept from ${new Date(at).toISOString()}; the oldest is from ${new Date(oldest['timestamp-ms']).toISOString()} (tables.<table>.retention sets how long they are kept)`,
    { code: 'QUERY_AS_OF', stage: 'query' },
  )
}
