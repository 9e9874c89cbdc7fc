import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { describeColumns, type Engine, sqlIdent, sqlString } from './engine.js'

/** Builds a COPY's `FIELD_IDS` option from the columns written (an Iceberg table's ids). */
export type FieldIds = (written: readonly { name: string; type: string }[]) => string

/** `, FIELD_IDS {…}` for the rows' columns but `except` (a partition column is not written), or ''. */
export async function fieldIdsClause(
  engine: Engine,
  rows: string,
  fieldIds: FieldIds | undefined,
  except?: string,
  /** The rows' columns when the caller knows them: not described again. */
  known?: readonly { name: string; type: string }[],
): Promise<string> {
  if (!fieldIds) return ''
  const columns = (known ?? (await describeColumns(engine, `(${rows})`))).filter((c) => c.name !== except)
  return `, FIELD_IDS ${fieldIds(columns)}`
}

/**
 * Writes rows as snappy Parquet under `out`: Hive-partitioned by a column (`dt=2026-11-20/`) with
 * files `<prefix>{i}`, or, unpartitioned, as one file `<prefix>0.parquet`. Returns the files written
 * and the row count. The partition column is in the folder names only, as Hive has it, unless
 * `keepPartition` (an Iceberg table's files hold every column of the table, as readers expect).
 */
export async function copyParquet(
  engine: Engine,
  rows: string,
  out: string,
  prefix: string,
  partitionBy: string | undefined,
  fieldIds?: FieldIds,
  /** The rows' columns, if known. */
  columns?: readonly { name: string; type: string }[],
  keepPartition = false,
): Promise<{ written: string[]; ok: number; stats: FileStats }> {
  const ids = await fieldIdsClause(engine, rows, fieldIds, keepPartition ? undefined : partitionBy, columns)
  if (!partitionBy) {
    await mkdir(out, { recursive: true })
    const file = join(out, `${prefix}0.parquet`)
    const ok = Number((await engine.query(`SELECT count(*) AS n FROM (${rows})`)).rows[0]?.n ?? 0)
    if (ok === 0) return { written: [], ok, stats: new Map() }
    const r = await engine.query(
      `COPY (${rows}) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION snappy, RETURN_STATS${ids})`,
    )
    return { written: [file], ok, stats: fileStats(r.rows) }
  }
  const r = await engine.query(
    `COPY (${rows}) TO ${sqlString(out)}
     (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (${sqlIdent(partitionBy)}), FILENAME_PATTERN ${sqlString(`${prefix}{i}`)},
      OVERWRITE_OR_IGNORE, RETURN_STATS${keepPartition ? ', WRITE_PARTITION_COLUMNS true' : ''}${ids})`,
  )
  return {
    written: r.rows.map((x) => String(x.filename)).sort(),
    ok: r.rows.reduce((n, x) => n + Number(x.count), 0),
    stats: fileStats(r.rows),
  }
}

/** Each file a COPY wrote, with its rows and bytes: what a table's metadata records of it. */
export type FileStats = Map<string, { readonly rows: number; readonly bytes: number }>

/** The rows of a COPY … RETURN_STATS, by file. */
export function fileStats(rows: readonly Record<string, unknown>[]): FileStats {
  return new Map(
    rows.map((r) => [String(r.filename), { rows: Number(r.count), bytes: Number(r.file_size_bytes) }]),
  )
}
