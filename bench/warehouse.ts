import { execFileSync } from 'node:child_process'
import { mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import pg from 'pg'
import { createEngine, sqlList, sqlString } from '../src/engine/engine.js'
import { createStateStore } from '../src/state/state.js'
import { createLocalStore } from '../src/storage/local/local-store.js'
import { loadPostgres } from '../src/warehouse/postgres.js'
import { registerParquet } from './lake.js'
import { type BenchResult, median, seconds } from './types.js'

/**
 * `weir load postgres` of a 1M-row fact table (Parquet in the lake → COPY, primary key included)
 * against `psql \copy` of the same rows as CSV into the same table definition, in the same run.
 */
export async function warehouseBench(dir: string, count = 1_000_000): Promise<BenchResult> {
  const url = process.env.WEIR_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test'
  const lake = join(dir, 'lake')
  const out = join(lake, 'refined/fact_bench')
  await mkdir(out, { recursive: true })
  const engine = await createEngine()
  await engine.run(
    `COPY (SELECT CAST(1590000000000000000 + i AS VARCHAR) AS tweet_id, CAST(2000000 + i % 5000 AS VARCHAR) AS user_id,
        TIMESTAMP '2026-11-01' + to_seconds(i % 864000) AS created_at, ['en','pt','es'][1 + i % 3] AS lang,
        i % 1000 AS likes, i % 500 AS retweets, (i % 97) * 1.5 AS score, CAST(TIMESTAMP '2026-11-01' + to_days(i % 10) AS DATE) AS dt
      FROM range(${count}) t(i)) TO ${sqlString(join(out, 'part-0.parquet'))} (FORMAT parquet, COMPRESSION snappy)`,
  )
  const files = (await readdir(out)).map((f) => join(out, f))
  const store = createLocalStore(lake)
  await registerParquet(engine, lake, files, {
    zone: 'refined',
    name: 'fact_bench',
    location: 'refined/fact_bench/',
    format: 'parquet',
    partitioning: [],
    primaryKey: ['tweet_id'],
  })
  const csv = join(dir, 'fact_bench.csv')
  await engine.run(
    `COPY (SELECT * FROM read_parquet(${sqlList(files)})) TO ${sqlString(csv)} (FORMAT csv, HEADER true)`,
  )
  const db = new pg.Client({ connectionString: url })
  await db.connect()
  await db.query('DROP SCHEMA IF EXISTS weir_bench CASCADE; CREATE SCHEMA weir_bench')
  const ddl = `CREATE TABLE weir_bench.by_psql (tweet_id text NOT NULL, user_id text, created_at timestamptz, lang text, likes bigint,
      retweets bigint, score numeric(18,1), dt date, PRIMARY KEY (tweet_id))`
  const weir: number[] = []
  const base: number[] = []
  for (let i = 0; i < 3; i++) {
    weir.push(
      await seconds(() =>
        loadPostgres(store, engine, createStateStore(store), {
          url,
          schema: 'weir_bench',
          fullRefresh: true,
          stagingDir: join(dir, 'staging'),
        }),
      ),
    )
    await db.query(`DROP TABLE IF EXISTS weir_bench.by_psql; ${ddl}`)
    base.push(
      await seconds(async () => {
        execFileSync('psql', [
          url,
          '-q',
          '-c',
          `SET TIME ZONE 'UTC'`,
          '-c',
          `\\copy weir_bench.by_psql FROM '${csv}' WITH (FORMAT csv, HEADER true)`,
        ])
      }),
    )
  }
  const loaded = Number((await db.query('SELECT count(*) AS n FROM weir_bench.fact_bench')).rows[0].n)
  await db.query('DROP SCHEMA weir_bench CASCADE')
  await db.end()
  await engine.close()
  const ours = median(weir)
  const theirs = median(base)
  return {
    name: 'warehouse-load',
    unit: 'rows/s',
    value: count / ours,
    baseline: { name: 'psql \\copy of the same rows as CSV into the same table', value: count / theirs },
    ratio: theirs / ours,
    notes: `${count.toLocaleString('en-US')}-row fact table with a primary key, full load (DuckDB writes CSV from the Parquet, COPY, swap) median of 3: ${ours.toFixed(2)} s against psql \\copy ${theirs.toFixed(2)} s; ${loaded.toLocaleString('en-US')} rows in PostgreSQL; goal ratio >= 0.7`,
    details: { weir, psql: base },
  }
}
