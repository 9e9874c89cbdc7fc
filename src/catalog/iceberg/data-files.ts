import { type Engine, sqlList } from '../../engine/engine.js'
import { localize } from '../../engine/localize.js'
import type { ObjectInfo, ObjectStore } from '../../storage/storage.js'
import type { Column, TableEntry } from '../catalog.js'
import type { DataFile } from './manifest.js'
import { uriOf } from './metadata.js'

const DAY_MS = 86_400_000

/** A table's columns as its Iceberg schema has them: a Hive `dt` partition is a DATE column there. */
export function icebergColumns(entry: Pick<TableEntry, 'columns' | 'partitioning'>): Column[] {
  return entry.partitioning.includes('dt') && !entry.columns.some((c) => c.name === 'dt')
    ? [...entry.columns, { name: 'dt', type: 'DATE' }]
    : [...entry.columns]
}

/**
 * A table's identity partition, from its Hive folders (`dt=2026-11-20/`, a model's
 * `partition_by`): the column and its DuckDB type. A trusted table's `dt` is a DATE.
 */
export function partitionOf(entry: Pick<TableEntry, 'columns' | 'partitioning'>) {
  const name = entry.partitioning[0]
  if (!name) return undefined
  return { name, type: icebergColumns(entry).find((c) => c.name === name)?.type ?? 'VARCHAR' }
}

/** Whether Weir can keep a column of this DuckDB type as an Iceberg identity partition. */
export const partitionable = (type: string) =>
  /^(DATE|VARCHAR|TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER)$/.test(type)

/** The value of a file's partition, from its Hive folder, as the manifest keeps it. */
function partitionValue(key: string, p: { name: string; type: string }): string | number | null {
  const raw = key
    .split('/')
    .find((part) => part.startsWith(`${p.name}=`))
    ?.slice(p.name.length + 1)
  if (raw === undefined || raw === '__HIVE_DEFAULT_PARTITION__') return null
  const value = decodeURIComponent(raw)
  if (p.type === 'VARCHAR') return value
  const n = p.type === 'DATE' ? Math.round(Date.parse(`${value}T00:00:00Z`) / DAY_MS) : Number(value)
  return Number.isFinite(n) ? n : null
}

/** Each new file's size, row count (from its footer) and partition (from its path). */
export async function describeFiles(
  store: ObjectStore,
  engine: Engine,
  files: readonly string[],
  partition: { name: string; type: string } | undefined,
  /** Rows and bytes of files, by key, as their writer counted them: not read again. */
  known: ReadonlyMap<string, { readonly rows: number; readonly bytes: number }> | undefined,
): Promise<DataFile[]> {
  const file = (key: string, recordCount: number, sizeBytes: number): DataFile => ({
    path: uriOf(store, key),
    recordCount,
    sizeBytes,
    partition: partition
      ? { [partition.name]: partitionValue(key, partition) }
      : ({} as Record<string, never>),
  })
  const counted = files.flatMap((k) => {
    const s = known?.get(k)
    return s ? [file(k, s.rows, s.bytes)] : []
  })
  const rest = files.filter((k) => !known?.has(k))
  if (rest.length === 0) return counted
  const infos = await Promise.all(rest.map((k) => store.head(k)))
  const objects = infos.filter((o): o is ObjectInfo => o !== undefined)
  const paths = await localize(store, objects)
  const { rows } = await engine.query(
    `SELECT file_name, num_rows FROM parquet_file_metadata(${sqlList(paths)})`,
  )
  const counts = new Map(rows.map((r) => [String(r.file_name), Number(r.num_rows)]))
  return [...counted, ...objects.map((o, i) => file(o.key, counts.get(paths[i]!) ?? 0, o.size))]
}
