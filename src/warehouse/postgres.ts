import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { PoolClient } from 'pg'
import { listTables, type TableEntry, tableFiles } from '../catalog/catalog.js'
import { parse, type Type } from '../catalog/types.js'
import { readerSql } from '../catalog/views.js'
import { WeirError } from '../core/errors.js'
import type { OnProgress } from '../core/progress.js'
import { type Engine, sqlIdent, sqlList, sqlString } from '../engine/engine.js'
import { localize } from '../engine/localize.js'
import type { StateStore } from '../state/state.js'
import type { ObjectStore } from '../storage/storage.js'
import type { LoadResult } from './warehouse.js'

export type { LoadResult } from './warehouse.js'

import { checkTypes, mergeByKey, replaceWhole } from './load-modes.js'
import { q } from './pg-sql.js'

export interface LoadOptions {
  /** A postgres:// URL; without one, the standard PG* variables (PGHOST, PGUSER, PGPASSWORD, ...). */
  readonly url?: string
  /** Target schema (default `refined`). */
  readonly schema: string
  /** Only these models (default: every refined Parquet table). */
  readonly select?: readonly string[]
  readonly fullRefresh?: boolean
  /** Where DuckDB writes the CSV it streams into COPY; emptied after each table. */
  readonly stagingDir: string
  readonly progress?: OnProgress
}

/**
 * Loads the lake's refined tables into PostgreSQL: DDL from the catalog (faithful types, the models'
 * keys as primary keys), rows through COPY from a CSV DuckDB writes from the Parquet (never row by
 * row), a full refresh into a new table swapped in by rename inside one transaction, and an
 * incremental load (only the files that changed since the last load) into a staging table merged by
 * key in one transaction, writing only rows that differ. New columns are added; a changed type fails.
 */
export async function loadPostgres(
  store: ObjectStore,
  engine: Engine,
  state: StateStore,
  opts: LoadOptions,
): Promise<LoadResult[]> {
  const { default: pg } = await import('pg')
  const pool = new pg.Pool(opts.url ? { connectionString: opts.url, max: 2 } : { max: 2 })
  const client = await pool.connect().catch((err: Error) => {
    throw new WeirError(
      `load postgres: cannot connect (${err.message}); set --url or warehouse.url, or PGHOST/PGUSER/PGDATABASE`,
      {
        code: 'WAREHOUSE_CONNECT',
        stage: 'warehouse',
        retryable: true,
      },
    )
  })
  const results: LoadResult[] = []
  try {
    await client.query("SET TIME ZONE 'UTC'")
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${q(opts.schema)}`)
    const tables = (await listTables(store, 'refined')).filter(
      (t) => t.format === 'parquet' && (!opts.select?.length || opts.select.includes(t.name)),
    )
    for (const t of tables) {
      results.push(await loadTable(client, store, engine, state, t, opts))
      opts.progress?.({
        stage: 'load',
        label: 'postgres',
        done: results.length,
        total: tables.length,
        unit: 'tables',
        records: results.reduce((n, r) => n + r.rows, 0),
      })
    }
  } finally {
    client.release()
    await pool.end()
  }
  return results
}

async function loadTable(
  client: PoolClient,
  store: ObjectStore,
  engine: Engine,
  state: StateStore,
  t: TableEntry,
  opts: LoadOptions,
): Promise<LoadResult> {
  const t0 = performance.now()
  const doc = `warehouse/postgres/${opts.schema}/${t.name}`
  const loaded = new Set((await state.get<{ files: string[] }>(doc))?.files ?? [])
  const files = (await tableFiles(store, t)) ?? []
  const added = files.filter((f) => !loaded.has(f))
  const keys = t.primaryKey ?? []
  const existing = await columnsOf(client, opts.schema, t.name)
  const wanted = t.columns.map((c) => ({ name: c.name, pg: pgType(parse(c.type)) }))
  const done = (mode: LoadResult['mode'], rows: number, changed: number, addedCols: string[]) => ({
    table: t.name,
    mode,
    rows,
    changed,
    added: addedCols,
    seconds: (performance.now() - t0) / 1000,
  })

  // An incompatible change fails here, before anything is written.
  if (existing.size && !opts.fullRefresh) checkTypes(`${opts.schema}.${t.name}`, existing, wanted)
  // The same files as last time, and the same columns: nothing to do, keyed or not.
  if (
    existing.size > 0 &&
    !opts.fullRefresh &&
    loaded.size === files.length &&
    files.every((f) => loaded.has(f)) &&
    wanted.every((c) => existing.has(c.name))
  )
    return done('unchanged', 0, 0, [])
  const incremental = existing.size > 0 && !opts.fullRefresh && keys.length > 0 && loaded.size > 0

  const csv = join(opts.stagingDir, `${t.name}.csv`)
  await mkdir(opts.stagingDir, { recursive: true })
  try {
    const source = incremental ? added : files
    const rows = await exportCsv(store, engine, t, source, csv)
    const _cols = wanted.map((c) => q(c.name)).join(', ')
    const table = `${q(opts.schema)}.${q(t.name)}`
    if (incremental) {
      const r = await mergeByKey(client, table, wanted, keys, existing, csv, rows)
      await state.put(doc, { files })
      return done('incremental', rows, r.changed, r.added)
    }
    await replaceWhole(client, opts.schema, t, wanted, keys, csv, rows)
    await state.put(doc, { files })
    return done(
      'full',
      rows,
      rows,
      existing.size ? wanted.filter((c) => !existing.has(c.name)).map((c) => c.name) : [],
    )
  } finally {
    await rm(csv, { force: true })
  }
}

/** DuckDB writes the rows as CSV (structs and lists as JSON, timestamps in UTC); returns the row count. */
async function exportCsv(
  store: ObjectStore,
  engine: Engine,
  t: TableEntry,
  keys: readonly string[],
  out: string,
): Promise<number> {
  if (!keys.length) return 0
  const infos = await Promise.all(keys.map(async (k) => (await store.head(k))!))
  const local = await localize(store, infos.filter(Boolean))
  const select = t.columns
    .map((c) => {
      const kind = parse(c.type).kind
      return kind === 'scalar' ? sqlIdent(c.name) : `to_json(${sqlIdent(c.name)}) AS ${sqlIdent(c.name)}`
    })
    .join(', ')
  const r = await engine.query(
    `COPY (SELECT ${select} FROM ${readerSql(t, sqlList(local))}) TO ${sqlString(out)} (FORMAT csv, HEADER true)`,
  )
  return Number(Object.values(r.rows[0] ?? {})[0] ?? 0)
}

async function columnsOf(client: PoolClient, schema: string, table: string): Promise<Map<string, string>> {
  const r = await client.query(
    `SELECT column_name, format_type(a.atttypid, a.atttypmod) AS type
     FROM information_schema.columns c
     JOIN pg_attribute a ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass AND a.attname = c.column_name
     WHERE c.table_schema = $1 AND c.table_name = $2`,
    [schema, table],
  )
  return new Map(r.rows.map((row: { column_name: string; type: string }) => [row.column_name, row.type]))
}

/** A DuckDB type as PostgreSQL's: faithful for numbers and times, jsonb for nested values. */
export function pgType(t: Type): string {
  if (t.kind !== 'scalar') return 'jsonb'
  switch (t.name) {
    case 'VARCHAR':
      return 'text'
    case 'BIGINT':
      return 'bigint'
    case 'INTEGER':
      return 'integer'
    case 'SMALLINT':
    case 'TINYINT':
    case 'UTINYINT':
      return 'smallint'
    case 'USMALLINT':
      return 'integer'
    case 'UINTEGER':
      return 'bigint'
    case 'UBIGINT':
    case 'HUGEINT':
    case 'UHUGEINT':
      return 'numeric(39,0)' // beyond bigint: exact, never a rounded double
    case 'DOUBLE':
      return 'double precision'
    case 'FLOAT':
      return 'real'
    case 'DECIMAL':
      return `numeric(${t.args.join(',')})`
    case 'BOOLEAN':
      return 'boolean'
    case 'DATE':
      return 'date'
    case 'TIMESTAMP':
    case 'TIMESTAMP WITH TIME ZONE':
    case 'TIMESTAMP_MS':
    case 'TIMESTAMP_S':
    case 'TIMESTAMP_NS':
      return 'timestamp with time zone'
    case 'TIME':
      return 'time without time zone'
    case 'BLOB':
      return 'bytea'
    case 'UUID':
      return 'uuid'
    case 'JSON':
      return 'jsonb'
    default:
      return 'text'
  }
}
