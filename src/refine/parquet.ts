import { mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { TableEntry } from '../catalog/catalog.js'
import { readerSql } from '../catalog/views.js'
import { WeirError } from '../core/errors.js'
import { hivePartition } from '../core/paths.js'
import { utcParts } from '../core/time.js'
import { type Engine, sqlIdent, sqlList, sqlString } from '../engine/engine.js'
import { copyParquet, type FieldIds, type FileStats, fieldIdsClause, fileStats } from '../engine/parquet.js'
import type { SchemaPlan } from './schema.js'

export interface Batch {
  /** The DuckDB temp table holding the batch: the raw rows (one per key), and `dt` (NULL: no event date). */
  readonly table: string
  readonly ok: number
  readonly bad: number
  /** Per local file of the batch: its rows (before dedupe) and the partitions they went to. */
  readonly perFile: ReadonlyMap<string, { readonly records: number; readonly parts: readonly string[] }>
}

/**
 * The one pass over the raw files: the batch goes into a DuckDB temp table (spilled to disk when
 * large), with its `dt`, one row per key. Its schema is then known for free, and each table's Parquet
 * is written once from it, flattened and fitted.
 */
export async function stageBatch(
  engine: Engine,
  raw: TableEntry,
  files: readonly string[],
  table: string,
  eventTime: string | undefined,
  keys: readonly string[],
  now = new Date(),
): Promise<Batch> {
  // sample_size = -1: the schema comes from every row, so a field that first appears late in a
  // large file is not silently left out. The reader call is left open to add the file name column.
  const read =
    raw.format === 'csv'
      ? `${readerSql(raw, sqlList(files)).slice(0, -1)}, sample_size = -1`
      : raw.format === 'parquet'
        ? `read_parquet(${sqlList(files)}, union_by_name = true, hive_partitioning = false`
        : `read_json(${sqlList(files)}, format = 'newline_delimited', union_by_name = true, sample_size = -1`
  // The file name column must not be one of the data's (DuckDB refuses the clash): pick a free name.
  let fileCol = FILE_COLUMN
  const create = async (dt: string) => {
    try {
      for (let i = 0; ; i++) {
        try {
          await engine.run(
            `CREATE OR REPLACE TEMP TABLE ${table} AS SELECT *, ${dt} AS dt FROM ${read}, filename = ${sqlString(fileCol)})`,
          )
          await keepLastCopies(engine, table, keys, fileCol)
          break
        } catch (err) {
          if (i > 3 || !/Option filename adds column/.test(String((err as Error).message))) throw err
          fileCol = `${FILE_COLUMN}_${i + 1}`
        }
      }
      await renamePartitionClash(engine, table)
    } catch (err) {
      // A key no record has cannot even be bound: say which setting to fix, not DuckDB's words.
      const missing = keys.find((k) => unbound(err, k))
      if (!missing) throw err
      throw new WeirError(
        `refine ${raw.name}: the primary key field "${missing}" is in none of the raw records; set tables."${raw.source}.${raw.resource}".primaryKey to fields they have (see \`weir catalog describe raw.${raw.name}\`)`,
        { code: 'REFINE_KEY_MISSING', stage: 'refine', cause: err },
      )
    }
  }
  if (!eventTime) await create(`DATE ${sqlString(dateOf(now))}`)
  else {
    try {
      await create(`CAST(try_cast(${columnPath(eventTime)} AS TIMESTAMP) AS DATE)`)
    } catch (err) {
      // No row of the batch has the field, so DuckDB cannot even bind it: every row lacks an event time.
      if (!unbound(err, eventTime)) throw err
      await create('NULL::DATE')
    }
  }
  const perFile = new Map<string, { records: number; parts: string[] }>()
  for (const f of files) perFile.set(f, { records: 0, parts: [] })
  // What each file gave (the ledger keeps it, so a rewind knows which partitions to rebuild).
  const { rows: counts } = await engine.query(
    `SELECT ${sqlIdent(fileCol)} AS file, count(*) AS n,
       list(DISTINCT strftime(dt, '%Y-%m-%d')) FILTER (WHERE dt IS NOT NULL) AS dts
     FROM ${table} GROUP BY ALL`,
  )
  for (const r of counts) {
    const dts = (r.dts as string[] | null) ?? []
    perFile.set(String(r.file), { records: Number(r.n), parts: dts.map((d) => `dt=${d}`).sort() })
  }
  await engine.run(`ALTER TABLE ${table} DROP COLUMN ${sqlIdent(fileCol)}`)
  const { rows } = await engine.query(
    `SELECT count(*) FILTER (WHERE dt IS NOT NULL) AS ok, count(*) FILTER (WHERE dt IS NULL) AS bad FROM ${table}`,
  )
  return { table, ok: Number(rows[0]?.ok ?? 0), bad: Number(rows[0]?.bad ?? 0), perFile }
}

/**
 * Within one batch the last copy of a key wins (files are named in stream order, rows kept in file
 * order). The window sees the keys and row ids only, not whole rows: over whole rows it needed the
 * batch in memory several times and failed under a memory limit.
 */
async function keepLastCopies(engine: Engine, table: string, keys: readonly string[], fileCol: string) {
  if (!keys.length) return
  // Bound alone first: inside the subquery below a missing key reads as a correlated column, and
  // DuckDB's error would not name it.
  await engine.run(`SELECT ${keys.map(columnPath).join(', ')} FROM ${table} LIMIT 0`)
  await engine.run(
    `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table}
       QUALIFY row_number() OVER (PARTITION BY ${keys.map(columnPath).join(', ')} ORDER BY ${sqlIdent(fileCol)} DESC, rowid DESC) > 1)`,
  )
}

/**
 * Rewrites a staged batch to fit the table: casts per the plan, and rows the plan sets aside
 * written, each with its reason, to `unfit` (NDJSON).
 */
export async function fitSchema(
  engine: Engine,
  staged: string,
  plan: SchemaPlan,
  out: string,
  unfit: string,
  seq: number,
  partitioned = true,
  fieldIds?: FieldIds,
  /** The staged rows' columns (as described): those written when the plan casts nothing. */
  stagedColumns?: readonly { name: string; type: string }[],
): Promise<{ written: string[]; ok: number; bad: number; stats: FileStats }> {
  let bad = 0
  if (plan.reason) {
    const where = `WHERE (${plan.reason}) IS NOT NULL`
    bad = Number((await engine.query(`SELECT count(*) AS n FROM ${staged} ${where}`)).rows[0]?.n ?? 0)
    if (bad) {
      await engine.run(
        `COPY (SELECT ${plan.reason} AS _reason, * EXCLUDE (dt) FROM ${staged} ${where}) TO ${sqlString(unfit)} (FORMAT json)`,
      )
    }
  }
  const rows = `SELECT ${plan.select ?? '*'} FROM ${staged}${plan.reason ? ` WHERE (${plan.reason}) IS NULL` : ''}`
  const columns = plan.select ? undefined : stagedColumns
  const r = await copyParquet(
    engine,
    rows,
    out,
    `part-${pad(seq)}-`,
    partitioned ? 'dt' : undefined,
    fieldIds,
    columns,
    // Only an Iceberg table's files carry field ids, and they hold `dt` too.
    fieldIds !== undefined,
  )
  return { ...r, bad }
}

/**
 * One row per key across this batch's new files and the table's files of the same partitions, the
 * batch's copy winning (it was landed later), written as new files of those partitions. The old
 * rows stream through an anti-join on the batch's keys (a hash table of the batch's keys only), so
 * memory is bounded by the batch, not by the partitions rewritten: a window over old and new rows
 * together held them all (1.7 GB refining 1 GB of tweets). A key may be NULL: NULLs match, as one key.
 */
export async function mergePartitions(
  engine: Engine,
  fresh: readonly string[],
  old: readonly string[],
  out: string,
  seq: number,
  keys: readonly string[],
  partitioned = true,
  fieldIds?: FieldIds,
): Promise<FileStats> {
  const merge = (f: readonly string[], o: readonly string[], prefix: string, columns: string) =>
    mergeFiles(engine, f, o, prefix, keys, columns, fieldIds)
  if (!partitioned) return merge(fresh, old, join(out, `part-${pad(seq)}-m`), '*')
  // One partition at a time, each a plain COPY to its folder: a COPY partitioned by dt kept a row
  // group in memory per partition and thread, and ran out of memory under a memory limit.
  const written: FileStats = new Map()
  for (const dt of [...new Set(fresh.map(hivePartition))].sort()) {
    const mine = (files: readonly string[]) => files.filter((f) => hivePartition(f) === dt)
    const prefix = join(out, dt, `part-${pad(seq)}-m`)
    // An Iceberg table's files hold `dt` too (they carry field ids); a Hive table's only its folder.
    const columns = fieldIds ? '*' : '* EXCLUDE (dt)'
    for (const [f, s] of await merge(mine(fresh), mine(old), prefix, columns)) written.set(f, s)
  }
  return written
}

/**
 * The merge of one partition (or of an unpartitioned table) into one file, `<prefix>0.parquet`.
 * Callers merge only where the table has files: `old` is never empty.
 */
async function mergeFiles(
  engine: Engine,
  fresh: readonly string[],
  old: readonly string[],
  prefix: string,
  keys: readonly string[],
  columns: string,
  fieldIds: FieldIds | undefined,
): Promise<FileStats> {
  // Fresh rows are one per key already (staging kept the last copy), or, in a child table, all the
  // children of the newest copy of each parent: either way an old row whose key the batch has goes.
  const read = (files: readonly string[]) =>
    `read_parquet(${sqlList(files)}, hive_partitioning = true, union_by_name = true)`
  const cols = keys.map(columnPath)
  // A key whose type the table widened (an id that became text) compares as text on both sides.
  const types = async (files: readonly string[]) =>
    (await engine.query(`DESCRIBE SELECT ${cols.join(', ')} FROM ${read(files)}`)).rows.map((r) =>
      String(r.column_type),
    )
  const [tf, to] = [await types(fresh), await types(old)]
  const side = (c: string, i: number) => (tf[i] === to[i] ? c : `CAST(${c} AS VARCHAR)`)
  const on = cols.map((c, i) => `${side(`o.${c}`, i)} IS NOT DISTINCT FROM k._k${i}`).join(' AND ')
  const distinct = cols.map((c, i) => `${side(c, i)} AS _k${i}`).join(', ')
  const oldKept = `SELECT o.* FROM ${read(old)} o ANTI JOIN (SELECT DISTINCT ${distinct} FROM ${read(fresh)}) k ON ${on}`
  const all = `SELECT * FROM ${read(fresh)} UNION ALL BY NAME (${oldKept})`
  // Never empty (the batch's rows are in it): written without counting first.
  await mkdir(dirname(prefix), { recursive: true })
  const file = `${prefix}0.parquet`
  // Row groups of 32,768 rows: the writer's buffers are a quarter of the default's, which made a
  // merge fail under a memory limit (64 MB allocations), at no measurable cost in time.
  const rows = `SELECT ${columns} FROM (${all})`
  const ids = await fieldIdsClause(engine, rows, fieldIds)
  const r = await engine.query(
    `COPY (${rows}) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 32768, RETURN_STATS${ids})`,
  )
  return fileStats(r.rows)
}

const FILE_COLUMN = '_weir_file'

/**
 * The name a source field called `dt` keeps in the trusted zone: `dt` is the partition column
 * (`dt=2026-11-20/`), which Athena, Hive and DuckDB read from the path and would let shadow it.
 */
export const PARTITION_CLASH_NAME = 'dt_source'

/**
 * The staged table's last column is the partition date Weir added; DuckDB named it `dt_1` when the
 * data has a field `dt` too (OpenWeatherMap sends `dt` in every reading). The data's field becomes
 * `dt_source`, and the date `dt`.
 */
async function renamePartitionClash(engine: Engine, table: string): Promise<void> {
  const cols = (await engine.query(`DESCRIBE ${table}`)).rows.map((r) => String(r.column_name))
  const ours = cols.at(-1)!
  if (ours === 'dt') return
  let name = PARTITION_CLASH_NAME
  for (let i = 1; cols.includes(name); i++) name = `${PARTITION_CLASH_NAME}_${i}`
  await engine.run(`ALTER TABLE ${table} RENAME COLUMN dt TO ${sqlIdent(name)}`)
  await engine.run(`ALTER TABLE ${table} RENAME COLUMN ${sqlIdent(ours)} TO dt`)
}

/** Whether DuckDB could not bind this field path (`id`, `data.time`): no row has it. */
function unbound(err: unknown, path: string): boolean {
  if (!(err instanceof WeirError)) return false
  const m = /Binder Error: (?:Could not find key "([^"]+)"|Referenced column "?([^"\s]+)"? not found)/.exec(
    err.message,
  )
  const name = m?.[1] ?? m?.[2]
  return name !== undefined && path.split('.').includes(name)
}

/** `data.time` → `"data"."time"`: struct field access in DuckDB. */
export function columnPath(path: string): string {
  return path.split('.').map(sqlIdent).join('.')
}

export function pad(n: number): string {
  return String(n).padStart(6, '0')
}

export function dateOf(d: Date): string {
  const { yyyy, mm, dd } = utcParts(d)
  return `${yyyy}-${mm}-${dd}`
}
