import type { TableEntry } from '../catalog/catalog.js'
import { liveIndex } from '../catalog/iceberg/live.js'
import { loadTable } from '../catalog/iceberg/read.js'
import type { StateStore } from '../state/state.js'
import type { ObjectInfo, ObjectStore } from '../storage/storage.js'

/** What the ledger knows of one refined raw file. */
export interface LedgerFile {
  readonly size: number
  readonly etag: string
  /** The batch that refined it. */
  readonly seq: number
  /** Rows read from it (before dedupe). */
  readonly records?: number
  /** The trusted partitions its rows went to (`dt=2026-11-20`; `''` for an unpartitioned table). */
  readonly parts?: readonly string[]
}

/**
 * What refine has done for a raw table, in `_state/refine/<table>.json`: the last batch number, and
 * per raw file its size and version tag when refined (a file that changed is refined again), its
 * rows and the partitions they went to (what a rewind must rebuild).
 */
export interface Ledger {
  readonly seq: number
  readonly files: Readonly<Record<string, LedgerFile>>
  /**
   * Partitions a rewind took out of the trusted tables, not yet applied: set in the same write
   * that forgets their raw files, so a crash cannot leave the rows both forgotten and live.
   */
  readonly drop?: readonly string[] | 'all'
}

/** Reads the ledger; the first bookmark format (a list of keys) is taken as files of unknown version. */
export async function readLedger(state: StateStore, name: string): Promise<Ledger> {
  const saved = await state.get<Omit<Ledger, 'files'> & { files: string[] | Ledger['files'] }>(name)
  if (!saved) return { seq: 0, files: {} }
  if (!Array.isArray(saved.files)) return saved as Ledger
  return {
    seq: saved.seq,
    files: Object.fromEntries(saved.files.map((k) => [k, { size: -1, etag: '', seq: 0 }])),
  }
}

export async function newRawFiles(
  store: ObjectStore,
  raw: TableEntry,
  ledger: Ledger,
): Promise<ObjectInfo[]> {
  const pending: ObjectInfo[] = []
  for await (const o of store.list(raw.location)) {
    const base = o.key.slice(o.key.lastIndexOf('/') + 1)
    if (!RAW_EXTENSION[raw.format].test(o.key) || base.startsWith('_')) continue
    const done = ledger.files[o.key]
    // A file refined before is refined again when its content changed (a first-format entry has no tag).
    if (!done || (done.etag !== '' && done.etag !== o.etag)) pending.push(o)
  }
  return pending
}

/** The first pending files that fit one batch's limits (at least one file). */
export function limitBatch(
  pending: readonly ObjectInfo[],
  opts: { readonly batchFiles?: number; readonly batchBytes?: number },
): ObjectInfo[] {
  const maxFiles = opts.batchFiles ?? 1_000
  const maxBytes = opts.batchBytes ?? 256 * 1024 * 1024
  const out: ObjectInfo[] = []
  let bytes = 0
  for (const p of pending) {
    if (out.length >= maxFiles || (out.length > 0 && bytes + p.size > maxBytes)) break
    out.push(p)
    bytes += p.size
  }
  return out
}

/** Raw formats refine turns into Parquet (Parquet files landed as they are get their schema from the footers). */
export const REFINABLE = new Set<TableEntry['format']>(['ndjson', 'csv', 'parquet'])

const RAW_EXTENSION: Record<TableEntry['format'], RegExp> = {
  ndjson: /\.(nd)?json(\.gz)?$/,
  json: /\.json(\.gz)?$/,
  csv: /\.csv(\.gz)?$/,
  parquet: /\.parquet$/,
  view: /$^/,
}

export async function infos(store: ObjectStore, keys: readonly string[]): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = []
  for (const k of keys) {
    const info = await store.head(k)
    if (info) out.push(info)
  }
  return out
}

/**
 * The trusted table's live files: the catalog's list, after deleting files a crashed run left
 * outside it (but in an Iceberg table); for a table refined before the list existed, its folder's
 * Parquet files.
 */
export async function liveFiles(
  store: ObjectStore,
  location: string,
  entry: TableEntry | undefined,
): Promise<string[]> {
  // An Iceberg table's snapshot lists its files; the others may be an older snapshot's, which
  // `weir maintain` removes in time. A first commit may have landed before its entry did.
  if (entry?.iceberg && entry.files) return [...entry.files]
  if (!entry || entry.iceberg) {
    const loaded = await loadTable(store, location)
    if (loaded) return [...(await liveIndex(store, location, loaded.metadata)).keys()]
  }
  const found: string[] = []
  for await (const o of store.list(location)) if (o.key.endsWith('.parquet')) found.push(o.key)
  if (!entry?.files) return found
  const live = new Set(entry.files)
  for (const k of found) if (!live.has(k)) await store.delete(k)
  return [...entry.files]
}

/** The ledger after a batch: each file read, with the records and partitions it gave. */
export function nextLedger(
  ledger: Ledger,
  pending: readonly ObjectInfo[],
  perFile: ReadonlyMap<string, { records: number; parts: readonly string[] }>,
  local: readonly string[],
  seq: number,
  partitioned: boolean,
): Ledger {
  return {
    seq,
    files: {
      ...ledger.files,
      ...Object.fromEntries(
        pending.map((p, i) => {
          const got = perFile.get(local[i]!)
          const parts = partitioned ? [...(got?.parts ?? [])] : got?.records ? [''] : []
          return [p.key, { size: p.size, etag: p.etag, seq, records: got?.records ?? 0, parts }]
        }),
      ),
    },
  }
}
