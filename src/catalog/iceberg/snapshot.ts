import { randomUUID } from 'node:crypto'
import { WeirError } from '../../core/errors.js'
import { joinKey, type ObjectStore } from '../../storage/storage.js'
import {
  type DataFile,
  type ManifestEntry,
  type ManifestFile,
  manifestBytes,
  manifestListBytes,
  partitionSummaries,
} from './manifest.js'
import { current, newSnapshotId, type Snapshot, type TableMetadata, uriOf } from './metadata.js'
import { entriesOf, manifestsOf, primeList, primeManifest } from './read.js'
import type { Change } from './table.js'

/**
 * Writes the manifests and manifest list of `change` on top of `base`'s current snapshot, and
 * returns the snapshot to commit, with the parent's manifests and its own. A fast append: the
 * parent's manifests are kept as they are, but for those that list a removed file, which are
 * written again with it marked deleted.
 */
export async function writeSnapshot(
  store: ObjectStore,
  location: string,
  base: TableMetadata,
  change: Change,
): Promise<{ snapshot: Snapshot; parents: ManifestFile[]; manifests: ManifestFile[] }> {
  const { schema, spec, fields } = current(base)
  const snapshotId = newSnapshotId()
  const seq = base['last-sequence-number'] + 1
  const parent = base['current-snapshot-id'] >= 0 ? base['current-snapshot-id'] : undefined
  const opts = { schemaJson: JSON.stringify(schema), specId: spec['spec-id'], fields }
  const manifests: ManifestFile[] = []
  // Written side by side, each file's fsync shared with the others' (a commit is a few files);
  // a failure is seen where they are all awaited, not as an unhandled rejection before.
  const writing: Promise<void>[] = []
  const started = (w: Promise<void>) => {
    w.catch(() => {})
    writing.push(w)
  }
  const write = async (entries: ManifestEntry[]) => {
    const key = joinKey(location, 'metadata', `${randomUUID()}-m${manifests.length}.avro`)
    const bytes = await manifestBytes(entries, opts)
    started(store.put(key, bytes))
    const mf = {
      ...summary(entries, uriOf(store, key), bytes.length, spec['spec-id'], seq, snapshotId),
      partitions: partitionSummaries(entries, fields),
    }
    manifests.push(mf)
    primeManifest(store, mf, asRead(entries, snapshotId, seq))
  }
  const parents = parent === undefined ? [] : await manifestsOf(store, base, parent)
  const rewritten = await carry(store, location, parents, change.remove, snapshotId, manifests)
  // Not the ones this snapshot rewrote: they may still be on their way to the store.
  const mergeable = (m: ManifestFile) => m.length < MERGE_BYTES && m.addedSnapshotId !== snapshotId
  const small = manifests.filter(mergeable)
  if (small.length >= MERGE_AT) {
    manifests.splice(0, manifests.length, ...manifests.filter((m) => !mergeable(m)))
    await merge(store, small, snapshotId, write)
  }
  // What this snapshot changes is one manifest: the entries of the parents' manifests it rewrote
  // (their removed files marked deleted), and the files it adds.
  const added = change.add.map(
    (file): ManifestEntry => ({
      status: 1,
      snapshotId,
      sequenceNumber: null,
      fileSequenceNumber: null,
      file,
    }),
  )
  if (rewritten.length || added.length) await write([...rewritten, ...added])
  const list = joinKey(location, 'metadata', `snap-${snapshotId}-${randomUUID()}.avro`)
  started(
    store.put(
      list,
      await manifestListBytes(manifests, { snapshotId, parentId: parent, sequenceNumber: seq }),
    ),
  )
  await Promise.all(writing)
  primeList(store, uriOf(store, list), [...manifests])
  const rows = (xs: readonly DataFile[]) => xs.reduce((n, f) => n + f.recordCount, 0)
  const snapshot: Snapshot = {
    'snapshot-id': snapshotId,
    ...(parent !== undefined ? { 'parent-snapshot-id': parent } : {}),
    'sequence-number': seq,
    'timestamp-ms': Date.now(),
    'manifest-list': uriOf(store, list),
    summary: {
      operation: change.operation,
      'added-data-files': String(change.add.length),
      'added-records': String(rows(change.add)),
      'deleted-data-files': String(change.remove.length),
    },
    'schema-id': schema['schema-id'],
  }
  return { snapshot, parents, manifests }
}

/** Entries as a reader of their manifest has them: what they leave out inherited from its record. */
const asRead = (entries: readonly ManifestEntry[], snapshotId: number, seq: number): ManifestEntry[] =>
  entries.map((e) => ({
    ...e,
    snapshotId: e.snapshotId ?? snapshotId,
    sequenceNumber: e.sequenceNumber ?? seq,
    fileSequenceNumber: e.fileSequenceNumber ?? seq,
  }))

/** A new manifest as the manifest list records it: where, how big, and what its entries count. */
function summary(
  entries: readonly ManifestEntry[],
  path: string,
  length: number,
  specId: number,
  seq: number,
  snapshotId: number,
): ManifestFile {
  const count = (s: number) => {
    const of = entries.filter((e) => e.status === s)
    return { files: of.length, rows: of.reduce((n, e) => n + e.file.recordCount, 0) }
  }
  return {
    path,
    length,
    specId,
    sequenceNumber: seq,
    minSequenceNumber: entries.reduce((m, e) => Math.min(m, e.sequenceNumber ?? seq), seq),
    addedSnapshotId: snapshotId,
    added: count(1),
    existing: count(0),
    deleted: count(2),
  }
}

/**
 * A fast append adds a manifest each commit, and a removal has to look through all of them: past
 * this many small ones, a commit writes them as one. Manifests of this size or more are left as
 * they are, so a merge reads at most 32 small ones however large the table has grown.
 */
const MERGE_AT = 32
const MERGE_BYTES = 256 * 1024

/** Writes the live entries of `manifests` (and the ones this snapshot deleted) as one manifest. */
async function merge(
  store: ObjectStore,
  manifests: readonly ManifestFile[],
  snapshotId: number,
  write: (entries: ManifestEntry[]) => Promise<void>,
) {
  const entries: ManifestEntry[] = []
  for (const mf of manifests) {
    for (const e of await entriesOf(store, mf)) {
      if (e.status === 2 && e.snapshotId !== snapshotId) continue
      // Added by an earlier snapshot: existing from now on, with the sequence numbers it inherited.
      entries.push(e.status === 1 && mf.addedSnapshotId !== snapshotId ? { ...e, status: 0 } : e)
    }
  }
  if (entries.length) await write(entries)
}

/**
 * The parent's manifests into the new snapshot: those that list no file to remove as they are
 * (into `into`); the entries of the others returned, to be written again, that file deleted (in
 * this snapshot) and the others existing. Every file to remove must still be in the table, or
 * another writer changed it: the commit fails.
 */
async function carry(
  store: ObjectStore,
  location: string,
  parents: readonly ManifestFile[],
  remove: readonly string[],
  snapshotId: number,
  into: ManifestFile[],
): Promise<ManifestEntry[]> {
  const gone = new Set(remove)
  const found = new Set<string>()
  const rewritten: ManifestEntry[] = []
  const entries = gone.size ? await Promise.all(parents.map((mf) => entriesOf(store, mf))) : []
  for (const [i, mf] of parents.entries()) {
    const live = gone.size ? entries[i]!.filter((e) => e.status !== 2) : []
    if (!live.some((e) => gone.has(e.file.path))) {
      into.push(mf)
      continue
    }
    for (const e of live) {
      if (!gone.has(e.file.path)) rewritten.push({ ...e, status: 0 })
      else {
        found.add(e.file.path)
        rewritten.push({ ...e, status: 2, snapshotId })
      }
    }
  }
  const missing = remove.filter((p) => !found.has(p))
  if (missing.length) {
    throw new WeirError(
      `iceberg table ${location}: ${missing.length} file(s) to remove are not in the table (${missing[0]}); another writer changed it`,
      { code: 'ICEBERG_COMMIT', stage: 'refine', retryable: true },
    )
  }
  return rewritten
}
