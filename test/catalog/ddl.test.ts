import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { getTable } from '../../src/catalog/catalog.js'
import { parse, tableDdl } from '../../src/catalog/ddl.js'
import { createEngine } from '../../src/engine/engine.js'
import { land } from '../../src/landing/landing.js'
import { refine } from '../../src/refine/refine.js'
import { createStateStore } from '../../src/state/state.js'
import { json, scratchLake } from '../helpers/lake.js'
import { tempDir } from '../helpers/services.js'
import { tweets } from './ddl.fixture.js'

const golden = (name: string) => readFile(`test/fixtures/ddl/${name}`, 'utf8')

describe('catalog DDL', () => {
  it('writes Athena DDL with partition projection on dt, as the golden file', async () => {
    expect(tableDdl(tweets, 'athena', 's3://weir-lake/prod')).toBe(await golden('x_tweets.athena.sql'))
  })

  it('writes Trino (Hive connector) DDL with partition columns last, as the golden file', async () => {
    expect(tableDdl(tweets, 'trino', 's3://weir-lake/prod/')).toBe(await golden('x_tweets.trino.sql'))
  })

  it('writes DuckDB DDL that runs over a refined lake and reads every row', async () => {
    const { store, stream, root } = await scratchLake()
    const state = createStateStore(store)
    await stream.publish(
      'x',
      Array.from({ length: 30 }, (_, i) =>
        json(
          {
            id: String(i),
            created_at: `2026-11-${20 + (i % 2)}T10:00:00Z`,
            public_metrics: { like_count: i },
          },
          'tweets',
        ),
      ),
    )
    const table = () => ({
      maxRecords: 100,
      maxBytes: 1e7,
      maxAgeMs: 6e4,
      path: 'raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}',
      eventTime: 'created_at',
    })
    await land(stream, store, { topics: ['x'], state, table })
    const engine = await createEngine()
    await refine(store, engine, state, {
      tables: { 'x.tweets': { eventTime: 'created_at', format: 'parquet' } },
      stagingDir: await tempDir(),
    })
    await engine.close()
    const fresh = await createEngine()
    for (const zone of ['raw', 'trusted'] as const) {
      const entry = (await getTable(store, zone, 'x_tweets'))!
      for (const stmt of tableDdl(entry, 'duckdb', root)
        .split(';\n')
        .filter((x) => x.trim()))
        await fresh.run(stmt)
    }
    expect(
      (
        await fresh.query(
          'select count(*) as n, sum(public_metrics_like_count) as likes, count(distinct dt) as days from trusted.x_tweets',
        )
      ).rows,
    ).toEqual([{ n: 30, likes: 435, days: 2 }])
    expect((await fresh.query('select count(*) as n from raw.x_tweets')).rows).toEqual([{ n: 30 }])
    await fresh.close()
  })

  it("parses DuckDB's type text, nested and quoted", () => {
    expect(parse('STRUCT("a b" BIGINT, c VARCHAR[])[]')).toEqual({
      kind: 'list',
      of: {
        kind: 'struct',
        fields: [
          ['a b', { kind: 'scalar', name: 'BIGINT', args: [] }],
          ['c', { kind: 'list', of: { kind: 'scalar', name: 'VARCHAR', args: [] } }],
        ],
      },
    })
    expect(parse('TIMESTAMP WITH TIME ZONE')).toEqual({
      kind: 'scalar',
      name: 'TIMESTAMP WITH TIME ZONE',
      args: [],
    })
    expect(parse('DECIMAL(18,3)')).toEqual({ kind: 'scalar', name: 'DECIMAL', args: ['18', '3'] })
  })

  it('writes Spark DDL over the Parquet folder, its dt partitions repaired', () => {
    expect(tableDdl(tweets, 'spark', 's3://weir-lake/prod')).toBe(
      "CREATE TABLE IF NOT EXISTS trusted.x_tweets\nUSING PARQUET\nPARTITIONED BY (dt)\nLOCATION 's3://weir-lake/prod/trusted/x/tweets/';\nMSCK REPAIR TABLE trusted.x_tweets;\n",
    )
  })

  it('registers an Iceberg table by its snapshot in every engine, never by a glob over its folder', () => {
    const t = { ...tweets, iceberg: true, icebergMetadata: 'trusted/x/tweets/metadata/v7.metadata.json' }
    const root = 's3://weir-lake/prod'
    expect(tableDdl(t, 'duckdb', root)).toBe(
      'INSTALL iceberg;\nLOAD iceberg;\nCREATE SCHEMA IF NOT EXISTS trusted;\nCREATE OR REPLACE VIEW trusted."x_tweets" AS SELECT * FROM iceberg_scan(\'s3://weir-lake/prod/trusted/x/tweets/\');\n',
    )
    expect(tableDdl(t, 'trino', root)).toBe(
      "CALL iceberg.system.register_table(schema_name => 'trusted', table_name => 'x_tweets', table_location => 's3://weir-lake/prod/trusted/x/tweets/', metadata_file_name => 'v7.metadata.json');\n",
    )
    expect(tableDdl(t, 'spark', root)).toBe(
      "CALL spark_catalog.system.register_table(table => 'trusted.x_tweets', metadata_file => 's3://weir-lake/prod/trusted/x/tweets/metadata/v7.metadata.json');\n",
    )
    for (const d of ['athena', 'redshift'] as const) {
      expect(tableDdl(t, d, root)).toMatch(
        /reads it through the Glue Data Catalog\.\n-- Register it .*`weir catalog sync-glue`/,
      )
    }
    expect(tableDdl(t, 'redshift', root)).toContain("FROM DATA CATALOG DATABASE 'trusted'\nIAM_ROLE default;")
    expect(() => tableDdl({ ...t, icebergMetadata: undefined }, 'trino', root)).toThrow(
      /its Iceberg metadata is not committed yet: run weir refine first/,
    )
  })

  it('says which formats a dialect takes', () => {
    expect(() => tableDdl({ ...tweets, format: 'csv' }, 'trino', 's3://b')).toThrow(
      /Trino|trino DDL is written for Parquet/,
    )
  })
})
