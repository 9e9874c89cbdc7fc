import { WeirError } from '../core/errors.js'
import { type Engine, sqlIdent, sqlList, sqlString } from '../engine/engine.js'
import { localize } from '../engine/localize.js'
import type { ObjectInfo, ObjectStore } from '../storage/storage.js'
import { listTables, type TableEntry, ZONES } from './catalog.js'
import { type AsOf, snapshotKeys } from './iceberg/live.js'

const EXTENSIONS: Readonly<Record<TableEntry['format'], string>> = {
  ndjson: '.ndjson',
  parquet: '.parquet',
  csv: '.csv',
  json: '.json',
  view: '',
}

/** Where the alert history lives in the lake (NDJSON, one file per batch of events). */
export const ALERT_EVENTS = '_alerts/events'

const ALERT_COLUMNS =
  'at VARCHAR, rule VARCHAR, "key" VARCHAR, state VARCHAR, outcome VARCHAR, channel VARCHAR, attempts BIGINT, digest BOOLEAN, subject VARCHAR, "values" VARCHAR, error VARCHAR'

/**
 * Makes every catalog table queryable by its zone and name (`select * from trusted.x_tweets`):
 * one schema per zone, one view per table over the table's current files. A table without files
 * becomes an empty view with its catalog columns, so queries on it return no rows instead of failing.
 */
export async function attachLake(
  engine: Engine,
  store: ObjectStore,
  /** Time travel: Iceberg tables as they were then (other tables as they are). */
  asOf?: AsOf,
): Promise<TableEntry[]> {
  for (const zone of ZONES) await engine.run(`CREATE SCHEMA IF NOT EXISTS ${zone}`)
  // Weir's own tables: the alert history (`select * from weir.alerts`).
  await engine.run('CREATE SCHEMA IF NOT EXISTS weir')
  const events: ObjectInfo[] = []
  for await (const o of store.list(`${ALERT_EVENTS}/`)) if (o.key.endsWith('.ndjson')) events.push(o)
  const columns = `{${ALERT_COLUMNS.split(', ')
    .map((c) => {
      const [n, t] = c.split(' ')
      return `${sqlString(n!.replaceAll('"', ''))}: ${sqlString(t!)}`
    })
    .join(', ')}}`
  await engine.run(
    events.length
      ? `CREATE OR REPLACE VIEW weir.alerts AS SELECT CAST("at" AS TIMESTAMP) AS "at", * EXCLUDE ("at") FROM read_json(${sqlList(await localize(store, events))}, format = 'newline_delimited', columns = ${columns})`
      : `CREATE OR REPLACE VIEW weir.alerts AS SELECT * FROM (SELECT NULL::TIMESTAMP AS "at", NULL::VARCHAR AS rule, NULL::VARCHAR AS "key", NULL::VARCHAR AS state, NULL::VARCHAR AS outcome, NULL::VARCHAR AS channel, NULL::BIGINT AS attempts, NULL::BOOLEAN AS digest, NULL::VARCHAR AS subject, NULL::VARCHAR AS "values", NULL::VARCHAR AS error) WHERE false`,
  )
  const tables = await listTables(store)
  if (asOf && 'snapshot' in asOf) await expectSnapshot(store, tables, asOf.snapshot)
  for (const t of tables) if (t.format !== 'view') await attachFiles(engine, store, t, asOf)
  // Model views are bound when created, so each after the views it reads: passes until none is left.
  let views = tables.filter((t) => t.format === 'view')
  while (views.length) {
    const failed: TableEntry[] = []
    let last: unknown
    for (const v of views) {
      try {
        await engine.run(await viewSql(store, v))
      } catch (err) {
        failed.push(v)
        last = err
      }
    }
    if (failed.length === views.length) throw last
    views = failed
  }
  return tables
}

/** Makes (or remakes) one table's view, e.g. after a stage changed its files. */
export async function attachTable(engine: Engine, store: ObjectStore, t: TableEntry): Promise<void> {
  if (t.format === 'view') await engine.run(await viewSql(store, t))
  else await attachFiles(engine, store, t)
}

/**
 * One table's view over its files. Raw files hold what sources sent, bad lines included (refine sets
 * them aside, but they stay in raw): the raw view then skips lines it cannot read. A table whose
 * files cannot be read at all becomes a view that fails with the reason when queried, so every
 * other table stays queryable.
 */
async function attachFiles(engine: Engine, store: ObjectStore, t: TableEntry, asOf?: AsOf): Promise<void> {
  const sql = await viewSql(store, t, asOf)
  try {
    await engine.run(sql)
    return
  } catch (err) {
    if (t.zone === 'raw' && (t.format === 'ndjson' || t.format === 'json')) {
      const lenient = sql.replace(
        /, hive_partitioning = false\)$/,
        ', hive_partitioning = false, ignore_errors = true)',
      )
      const ok = await engine.run(lenient).then(
        () => true,
        () => false,
      )
      if (ok) return
    }
    const why = `${t.zone}.${t.name} cannot be read: ${(err as Error).message.replace(/ \(in: .*\)$/, '')}`
    await engine.run(
      `CREATE OR REPLACE VIEW ${t.zone}.${sqlIdent(t.name)} AS SELECT error(${sqlString(why)}) AS error`,
    )
  }
}

async function viewSql(store: ObjectStore, t: TableEntry, asOf?: AsOf): Promise<string> {
  if (t.format === 'view')
    return `CREATE OR REPLACE VIEW ${t.zone}.${sqlIdent(t.name)} AS ${t.sql ?? 'SELECT NULL AS empty WHERE false'}`
  const objects: ObjectInfo[] = []
  // An Iceberg table is read as its snapshot has it (a table without the snapshot asked for, as it
  // is now); never as its folder, which holds older snapshots' files too.
  const wanted = t.iceberg
    ? ((await snapshotKeys(store, t, asOf)) ??
      (asOf ? await snapshotKeys(store, t) : undefined) ??
      t.files ??
      [])
    : t.files
  const live = wanted ? new Set(wanted) : undefined
  for await (const o of store.list(t.location)) {
    const base = o.key.slice(o.key.lastIndexOf('/') + 1)
    if (live ? live.has(o.key) : o.key.endsWith(EXTENSIONS[t.format]) && !base.startsWith('_'))
      objects.push(o)
  }
  const name = `${t.zone}.${sqlIdent(t.name)}`
  if (objects.length === 0) {
    const cols =
      t.columns.map((c) => `CAST(NULL AS ${c.type}) AS ${sqlIdent(c.name)}`).join(', ') || 'NULL AS empty'
    return `CREATE OR REPLACE VIEW ${name} AS SELECT ${cols} WHERE false`
  }
  const files = sqlList(await localize(store, objects))
  const from = readerSql(t, files)
  return `CREATE OR REPLACE VIEW ${name} AS SELECT * FROM ${from}`
}

/** A snapshot id asked for must be one that some Iceberg table keeps. */
async function expectSnapshot(store: ObjectStore, tables: readonly TableEntry[], id: number): Promise<void> {
  for (const t of tables) if (t.iceberg && (await snapshotKeys(store, t, { snapshot: id }))) return
  throw new WeirError(
    `--as-of ${id}: no Iceberg table keeps a snapshot of that id (see weir catalog history)`,
    {
      code: 'QUERY_AS_OF',
      stage: 'query',
    },
  )
}

/** The DuckDB table function that reads a table's files (a SQL list or glob), with its format's options. */
export function readerSql(t: TableEntry, files: string): string {
  switch (t.format) {
    case 'view':
      return `(${t.sql})`
    case 'parquet':
      return `read_parquet(${files}, hive_partitioning = true, union_by_name = true)`
    case 'ndjson':
      return `read_json(${files}, format = 'newline_delimited', union_by_name = true, hive_partitioning = false)`
    case 'json':
      return `read_json(${files}, format = 'array', union_by_name = true, hive_partitioning = false)`
    case 'csv': {
      const c = t.csv ?? { delimiter: ',', quote: '"', header: true, encoding: 'utf-8', null: [] }
      const nulls = typeof c.null === 'string' ? [c.null] : [...c.null]
      return `read_csv(${files}, delim = ${sqlString(c.delimiter)}, quote = ${sqlString(c.quote)}, header = ${c.header}, encoding = ${sqlString(c.encoding === 'latin1' ? 'latin-1' : 'utf-8')}${nulls.length ? `, nullstr = ${sqlList(nulls)}, allow_quoted_nulls = ${c.quotedNulls ?? true}` : ''}, union_by_name = true, hive_partitioning = false)`
    }
  }
}
