import { relative } from 'node:path'
import { putTable, type TableEntry } from '../src/catalog/catalog.js'
import { type Engine, sqlList } from '../src/engine/engine.js'
import { createLocalStore } from '../src/storage/local/local-store.js'

/** Registers Parquet files a bench wrote as a catalog table, with the columns DuckDB reads from them. */
export async function registerParquet(
  engine: Engine,
  lake: string,
  files: readonly string[],
  entry: Omit<TableEntry, 'columns' | 'files' | 'updatedAt'>,
): Promise<void> {
  const hive = entry.partitioning.includes('dt') ? ', hive_partitioning = true' : ''
  const { rows } = await engine.query(`DESCRIBE SELECT * FROM read_parquet(${sqlList(files)}${hive})`)
  await putTable(createLocalStore(lake), {
    ...entry,
    columns: rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) })),
    files: files.map((f) => relative(lake, f)),
    updatedAt: new Date().toISOString(),
  })
}
