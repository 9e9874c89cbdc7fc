import { createReadStream } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { PoolClient } from 'pg'
import { type Column, listTables, type TableEntry } from '../catalog/catalog.js'
import { parse, type Type } from '../catalog/types.js'
import { readerSql } from '../catalog/views.js'
import { WeirError } from '../core/errors.js'
import { type Engine, sqlIdent, sqlList, sqlString } from '../engine/engine.js'
import { localize } from '../engine/localize.js'
import type { StateStore } from '../state/state.js'
import type { ObjectStore } from '../storage/storage.js'

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
}

export interface LoadResult {
  readonly table: string
  readonly mode: 'full' | 'incremental' | 'unchanged'
  /** Rows copied into PostgreSQL (for an incremental load: the rows of the changed files). */
  readonly rows: number
  /** Rows inserted or updated by an incremental load (unchanged rows are not written). */
  readonly changed: number
  readonly added: readonly string[]
  readonly seconds: number
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
    for (const t of tables) results.push(await loadTable(client, store, engine, state, t, opts))
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
  const files = [...(t.files ?? [])]
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
  const addedCols: string[] = []
  if (existing.size && !opts.fullRefresh) {
    for (const c of wanted) {
      const have = existing.get(c.name)
      if (have && normalize(have) !== normalize(c.pg)) {
        throw new WeirError(
          `load postgres: ${opts.schema}.${t.name}.${c.name} is ${have} in PostgreSQL but ${c.pg} in the lake; reload it whole with \`weir load postgres --select ${t.name} --full-refresh\``,
          { code: 'WAREHOUSE_TYPE_CHANGED', stage: 'warehouse' },
        )
      }
    }
  }
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
    const cols = wanted.map((c) => q(c.name)).join(', ')
    const table = `${q(opts.schema)}.${q(t.name)}`
    if (incremental) {
      await client.query('BEGIN')
      try {
        for (const c of wanted) {
          if (existing.has(c.name)) continue
          await client.query(`ALTER TABLE ${table} ADD COLUMN ${q(c.name)} ${c.pg}`)
          addedCols.push(c.name)
        }
        await client.query(`CREATE TEMP TABLE weir_stage (LIKE ${table} INCLUDING DEFAULTS) ON COMMIT DROP`)
        if (rows)
          await copyIn(client, `COPY weir_stage (${cols}) FROM STDIN WITH (FORMAT csv, HEADER true)`, csv)
        const others = wanted.filter((c) => !keys.includes(c.name))
        const set = others.map((c) => `${q(c.name)} = excluded.${q(c.name)}`).join(', ')
        // Only rows that differ are written: an unchanged row keeps its tuple (and its readers' cache).
        const r = await client.query(
          `INSERT INTO ${table} (${cols}) SELECT DISTINCT ON (${keys.map(q).join(', ')}) ${cols} FROM weir_stage
           ON CONFLICT (${keys.map(q).join(', ')}) DO ${others.length ? `UPDATE SET ${set} WHERE (${others.map((c) => `${table}.${q(c.name)}`).join(', ')}) IS DISTINCT FROM (${others.map((c) => `excluded.${q(c.name)}`).join(', ')})` : 'NOTHING'}`,
        )
        await client.query('COMMIT')
        await state.put(doc, { files })
        return done('incremental', rows, r.rowCount ?? 0, addedCols)
      } catch (err) {
        await client.query('ROLLBACK')
        throw err
      }
    }
    // A full load: a new table, filled, then swapped in by rename in one transaction.
    const fresh = `${q(opts.schema)}.${q(`${t.name}__weir_new`)}`
    await client.query(`DROP TABLE IF EXISTS ${fresh}`)
    await client.query(
      `CREATE TABLE ${fresh} (${wanted.map((c) => `${q(c.name)} ${c.pg}${keys.includes(c.name) ? ' NOT NULL' : ''}`).join(', ')}${keys.length ? `, PRIMARY KEY (${keys.map(q).join(', ')})` : ''})`,
    )
    if (rows) await copyIn(client, `COPY ${fresh} (${cols}) FROM STDIN WITH (FORMAT csv, HEADER true)`, csv)
    await client.query('BEGIN')
    try {
      await client.query(`DROP TABLE IF EXISTS ${table}`)
      await client.query(`ALTER TABLE ${fresh} RENAME TO ${q(t.name)}`)
      if (keys.length) {
        // The primary key's index keeps the name it was made with: rename it after the table.
        await client.query(
          `ALTER INDEX ${q(opts.schema)}.${q(`${t.name}__weir_new_pkey`)} RENAME TO ${q(`${t.name}_pkey`)}`,
        )
      }
      if (t.description) await client.query(`COMMENT ON TABLE ${table} IS ${sqlString(t.description)}`)
      for (const c of t.columns as readonly Column[]) {
        if (c.description)
          await client.query(`COMMENT ON COLUMN ${table}.${q(c.name)} IS ${sqlString(c.description)}`)
      }
      await client.query('COMMIT')
    } catch (err) {
      await client.query('ROLLBACK')
      throw err
    }
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

async function copyIn(client: PoolClient, sql: string, file: string): Promise<void> {
  const { from } = await import('pg-copy-streams')
  await pipeline(createReadStream(file, { highWaterMark: 1024 * 1024 }), client.query(from(sql)))
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

function normalize(type: string): string {
  return type.replace(/\s+/g, ' ').toLowerCase()
}

function q(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}
