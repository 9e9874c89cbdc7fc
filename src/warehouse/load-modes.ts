import type { PoolClient } from 'pg'
import type { Column, TableEntry } from '../catalog/catalog.js'
import { WeirError } from '../core/errors.js'
import { sqlString } from '../engine/engine.js'
import { copyIn, normalize, q } from './pg-sql.js'

/** A column as the lake has it and the PostgreSQL type it loads as. */
export interface WantedColumn {
  readonly name: string
  readonly pg: string
}

/** A column whose type changed cannot be loaded into the table as it is: say how to reload it. */
export function checkTypes(
  table: string,
  existing: ReadonlyMap<string, string>,
  wanted: readonly WantedColumn[],
): void {
  for (const c of wanted) {
    const have = existing.get(c.name)
    if (have && normalize(have) !== normalize(c.pg)) {
      const name = table.slice(table.indexOf('.') + 1)
      throw new WeirError(
        `load postgres: ${table}.${c.name} is ${have} in PostgreSQL but ${c.pg} in the lake; reload it whole with \`weir load postgres --select ${name} --full-refresh\``,
        { code: 'WAREHOUSE_TYPE_CHANGED', stage: 'warehouse' },
      )
    }
  }
}

/**
 * Loads the new rows by key in one transaction: new columns added, the CSV copied into a staging
 * table, then upserted, writing only rows that differ.
 */
export async function mergeByKey(
  client: PoolClient,
  table: string,
  wanted: readonly WantedColumn[],
  keys: readonly string[],
  existing: ReadonlyMap<string, string>,
  csv: string,
  rows: number,
): Promise<{ changed: number; added: string[] }> {
  const cols = wanted.map((c) => q(c.name)).join(', ')
  const added: string[] = []
  await client.query('BEGIN')
  try {
    for (const c of wanted) {
      if (existing.has(c.name)) continue
      await client.query(`ALTER TABLE ${table} ADD COLUMN ${q(c.name)} ${c.pg}`)
      added.push(c.name)
    }
    await client.query(`CREATE TEMP TABLE weir_stage (LIKE ${table} INCLUDING DEFAULTS) ON COMMIT DROP`)
    if (rows) await copyIn(client, `COPY weir_stage (${cols}) FROM STDIN WITH (FORMAT csv, HEADER true)`, csv)
    const others = wanted.filter((c) => !keys.includes(c.name))
    const set = others.map((c) => `${q(c.name)} = excluded.${q(c.name)}`).join(', ')
    // Only rows that differ are written: an unchanged row keeps its tuple (and its readers' cache).
    const r = await client.query(
      `INSERT INTO ${table} (${cols}) SELECT DISTINCT ON (${keys.map(q).join(', ')}) ${cols} FROM weir_stage
       ON CONFLICT (${keys.map(q).join(', ')}) DO ${others.length ? `UPDATE SET ${set} WHERE (${others.map((c) => `${table}.${q(c.name)}`).join(', ')}) IS DISTINCT FROM (${others.map((c) => `excluded.${q(c.name)}`).join(', ')})` : 'NOTHING'}`,
    )
    await client.query('COMMIT')
    return { changed: r.rowCount ?? 0, added }
  } catch (err) {
    await client.query('ROLLBACK')
    throw err
  }
}

/** A full load: a new table, filled, then swapped in by rename in one transaction, with its comments. */
export async function replaceWhole(
  client: PoolClient,
  schema: string,
  t: TableEntry,
  wanted: readonly WantedColumn[],
  keys: readonly string[],
  csv: string,
  rows: number,
): Promise<void> {
  const cols = wanted.map((c) => q(c.name)).join(', ')
  const table = `${q(schema)}.${q(t.name)}`
  // A full load: a new table, filled, then swapped in by rename in one transaction.
  const fresh = `${q(schema)}.${q(`${t.name}__weir_new`)}`
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
        `ALTER INDEX ${q(schema)}.${q(`${t.name}__weir_new_pkey`)} RENAME TO ${q(`${t.name}_pkey`)}`,
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
}
