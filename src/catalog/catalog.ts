import type { CsvOptions } from '../core/csv.js'
import { getJson, joinKey, type ObjectStore, putJson } from '../storage/storage.js'
import { snapshotKeys } from './iceberg/live.js'

export const ZONES = ['raw', 'trusted', 'refined'] as const
export type Zone = (typeof ZONES)[number]

export interface Column {
  readonly name: string
  /** DuckDB type text, e.g. `VARCHAR`, `BIGINT`, `STRUCT(temperature DOUBLE)`, `VARCHAR[]`. */
  readonly type: string
  readonly description?: string
}

/** What a model's last build read and how: an incremental build reads only what changed since. */
export interface ModelState {
  /** Build number; output files are named after it, so a new build never overwrites a live file. */
  readonly seq: number
  /** Hash of the compiled SQL (a changed model is noted; an incremental one keeps its old rows). */
  readonly sqlHash: string
  /** Per input table (`trusted.x_tweets`), the live files it had when last read. */
  readonly inputs: Readonly<Record<string, readonly string[]>>
  readonly materialized: string
  readonly builtAt: string
}

/** One table of one zone, as stored in `_catalog/tables/<zone>/<name>.json`. */
export interface TableEntry {
  readonly zone: Zone
  readonly name: string
  readonly source?: string
  readonly resource?: string
  /** Key prefix of the table's files in the lake, ending with `/`. */
  readonly location: string
  /** `view`: a model materialised as a view, its SQL in `sql`. */
  readonly format: 'ndjson' | 'parquet' | 'csv' | 'json' | 'view'
  readonly sql?: string
  readonly description?: string
  /** How to read a CSV table's files. */
  readonly csv?: CsvOptions
  /** Hive partition columns (`dt`) or path template fields (`yyyy`, `mm`, `dd`). */
  readonly partitioning: readonly string[]
  readonly primaryKey?: readonly string[]
  readonly columns: readonly Column[]
  /**
   * The table's live files, when a stage swaps files (refine rewrites the partitions it dedupes):
   * readers use this list, so they see the old files or the new ones, never both.
   */
  readonly files?: readonly string[]
  /** The schema's versions, oldest first, each with the raw file that brought it and what changed. */
  readonly versions?: readonly {
    readonly version: number
    readonly columns: readonly Column[]
    readonly firstFile: string
    readonly at: string
    readonly changes: readonly string[]
  }[]
  /** The table also has Iceberg metadata (`<location>/metadata/`) that follows its live files. */
  readonly iceberg?: boolean
  /** The Iceberg snapshot that holds exactly `files`; absent while the metadata has to catch up. */
  readonly icebergSnapshot?: number
  /** The key of the Iceberg metadata file that snapshot was committed in: what Weir's views read. */
  readonly icebergMetadata?: string
  /** For a refined table built by a model. */
  readonly model?: ModelState
  readonly updatedAt: string
}

const ROOT = '_catalog/tables'

/**
 * A table's live files: an Iceberg table's as the snapshot its entry names has them, another's as
 * its entry lists them; undefined for a table whose every file in its folder is live (raw).
 */
export async function tableFiles(store: ObjectStore, entry: TableEntry): Promise<string[] | undefined> {
  const keys = entry.iceberg ? await snapshotKeys(store, entry) : undefined
  return keys ?? (entry.files ? [...entry.files] : undefined)
}

/**
 * The lake's catalog: JSON documents inside the lake, readable by people and by any engine's DDL
 * generator. Every stage that creates files registers their table here.
 *
 * @example const tables = await listTables(store)
 */
export async function listTables(store: ObjectStore, zone?: Zone): Promise<TableEntry[]> {
  const out: TableEntry[] = []
  for await (const o of store.list(zone ? `${ROOT}/${zone}/` : `${ROOT}/`)) {
    if (!o.key.endsWith('.json')) continue
    const entry = await getJson<TableEntry>(store, o.key)
    if (entry) out.push(entry)
  }
  return out.sort((a, b) => ZONES.indexOf(a.zone) - ZONES.indexOf(b.zone) || a.name.localeCompare(b.name))
}

export async function getTable(
  store: ObjectStore,
  zone: Zone,
  name: string,
): Promise<TableEntry | undefined> {
  return getJson<TableEntry>(store, tableKey(zone, name))
}

export async function putTable(store: ObjectStore, entry: TableEntry): Promise<void> {
  await putJson(store, tableKey(entry.zone, entry.name), entry)
}

/**
 * Removes a table: its catalog entry first (from then on no view, model or engine reading the
 * catalog sees it), then its files. A crash in between leaves files nothing lists, which the next
 * drop of the same name, or a new table there, replaces.
 */
export async function dropTable(store: ObjectStore, entry: TableEntry): Promise<void> {
  await store.delete(tableKey(entry.zone, entry.name))
  if (entry.format === 'view') return
  for await (const o of store.list(`${entry.location.replace(/\/+$/, '')}/`)) await store.delete(o.key)
}

function tableKey(zone: Zone, name: string): string {
  return joinKey(ROOT, zone, `${name}.json`)
}
