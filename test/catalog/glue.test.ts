import { GlueClient } from '@aws-sdk/client-glue'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listTables } from '../../src/catalog/catalog.js'
import { syncGlue } from '../../src/catalog/glue.js'
import { loadTable } from '../../src/catalog/iceberg/read.js'
import { createEngine, type Engine } from '../../src/engine/engine.js'
import { land } from '../../src/landing/landing.js'
import { refine } from '../../src/refine/refine.js'
import { rewind } from '../../src/refine/rewind.js'
import { createStateStore } from '../../src/state/state.js'
import { weir } from '../helpers/cli.js'
import { startGlue } from '../helpers/glue.js'
import { json, scratchLake } from '../helpers/lake.js'
import { tempDir } from '../helpers/services.js'

const CREDS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test-secret' }
let glueServer: Awaited<ReturnType<typeof startGlue>>
let engine: Engine
beforeAll(async () => {
  glueServer = await startGlue()
  engine = await createEngine({ threads: 2 })
})
afterAll(async () => {
  await glueServer.close()
  await engine.close()
})

const client = (url: string) =>
  new GlueClient({
    region: 'eu-west-1',
    endpoint: url,
    credentials: { accessKeyId: CREDS.AWS_ACCESS_KEY_ID, secretAccessKey: CREDS.AWS_SECRET_ACCESS_KEY },
  })

async function lakeWith(
  days: number[],
  extra: Record<string, unknown> = {},
  format: 'iceberg' | 'parquet' = 'parquet',
) {
  const lake = await scratchLake()
  const state = createStateStore(lake.store)
  const opts = {
    tables: { 'x.tweets': { eventTime: 'created_at', primaryKey: 'id', format } },
    stagingDir: await tempDir('weir-staging-'),
  }
  const add = async (ds: number[], more: Record<string, unknown> = {}) => {
    await lake.stream.publish(
      'x',
      ds.map((d, i) =>
        json(
          {
            id: `${d}${i}`,
            created_at: `2026-11-${d}T10:00:00Z`,
            public_metrics: { like_count: i },
            entities: { hashtags: [{ tag: 'a' }] },
            ...more,
          },
          'tweets',
        ),
      ),
    )
    await land(lake.stream, lake.store, {
      topics: ['x'],
      state,
      table: () => ({
        maxRecords: 100,
        maxBytes: 1e7,
        maxAgeMs: 6e4,
        path: 'raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}',
        eventTime: 'created_at',
      }),
    })
    await refine(lake.store, engine, state, opts)
  }
  await add(days, extra)
  return { ...lake, state, add }
}

describe('catalog sync-glue', () => {
  it('registers trusted tables with Hive types, Parquet SerDe and one partition per dt; a second run changes nothing', async () => {
    const glue = await startGlue()
    const { store } = await lakeWith([20, 21, 21, 22])
    const g = client(glue.url)
    const first = await syncGlue(store, g, { root: 's3://weir-lake/prod/' })
    expect(first).toEqual([
      { database: 'trusted', table: 'x_tweets', action: 'created', partitionsAdded: 3, partitionsRemoved: 0 },
      {
        database: 'trusted',
        table: 'x_tweets__entities_hashtags',
        action: 'created',
        partitionsAdded: 3,
        partitionsRemoved: 0,
      },
    ])
    const t = glue.tables.get('trusted.x_tweets')!
    expect(t.TableType).toBe('EXTERNAL_TABLE')
    expect(t.PartitionKeys).toEqual([{ Name: 'dt', Type: 'string' }])
    expect(t.Parameters).toMatchObject({
      classification: 'parquet',
      EXTERNAL: 'TRUE',
      'weir.primary_key': 'id',
    })
    expect(t.StorageDescriptor).toMatchObject({
      Location: 's3://weir-lake/prod/trusted/x/tweets/',
      InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
      Columns: [
        { Name: 'id', Type: 'string' },
        { Name: 'created_at', Type: 'timestamp' },
        { Name: 'public_metrics_like_count', Type: 'bigint' },
      ],
    })
    expect(
      glue.partitions('trusted', 'x_tweets').map((p) => [p.Values[0], p.StorageDescriptor?.Location]),
    ).toEqual([
      ['2026-11-20', 's3://weir-lake/prod/trusted/x/tweets/dt=2026-11-20/'],
      ['2026-11-21', 's3://weir-lake/prod/trusted/x/tweets/dt=2026-11-21/'],
      ['2026-11-22', 's3://weir-lake/prod/trusted/x/tweets/dt=2026-11-22/'],
    ])
    const before = glue.calls.length
    const again = await syncGlue(store, g, { root: 's3://weir-lake/prod' })
    expect(again.map((r) => [r.action, r.partitionsAdded, r.partitionsRemoved])).toEqual([
      ['unchanged', 0, 0],
      ['unchanged', 0, 0],
    ])
    // Read-only calls: no new table version, no partition call.
    expect(new Set(glue.calls.slice(before).map((c) => c.op))).toEqual(
      new Set(['GetDatabase', 'GetTable', 'GetPartitions']),
    )
    g.destroy()
    await glue.close()
  })

  it('follows the lake: a new day adds its partition, a new column updates the table, a rewind removes what it took out', async () => {
    const glue = await startGlue()
    const { store, state, add } = await lakeWith([20, 21])
    const g = client(glue.url)
    await syncGlue(store, g, { root: 's3://b/lake', only: ['x_tweets'] })
    await add([23], { lang: 'en' })
    const [r] = await syncGlue(store, g, { root: 's3://b/lake', only: ['x_tweets'] })
    expect(r).toMatchObject({ action: 'updated', partitionsAdded: 1, partitionsRemoved: 0 })
    const t = glue.tables.get('trusted.x_tweets')!
    expect(t.StorageDescriptor?.Columns?.at(-1)).toEqual({ Name: 'lang', Type: 'string' })
    expect(t.Parameters?.['weir.schema_version']).toBe('2')
    const raw = (await listTables(store, 'raw'))[0]!
    await rewind(store, engine, state, raw, { prefix: 'raw/x/json/tweets/2026/11/23/' })
    const [after] = await syncGlue(store, g, { root: 's3://b/lake', only: ['x_tweets'] })
    expect(after).toMatchObject({ partitionsRemoved: 1 })
    expect(glue.partitions('trusted', 'x_tweets').map((p) => p.Values[0])).toEqual([
      '2026-11-20',
      '2026-11-21',
    ])
    g.destroy()
    await glue.close()
  })

  it('with --projection, the table projects dt for Athena and no partition is registered', async () => {
    const glue = await startGlue()
    const { store } = await lakeWith([20])
    const g = client(glue.url)
    await syncGlue(store, g, {
      root: 's3://b/lake',
      projection: true,
      databasePrefix: 'weir_',
      only: ['trusted.x_tweets'],
    })
    const t = glue.tables.get('weir_trusted.x_tweets')!
    expect(t.Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'storage.location.template': expect.stringMatching(
        /^s3:\/\/b\/lake\/trusted\/x\/tweets\/dt=\$\{dt\}\/$/,
      ),
    })
    expect(glue.partitions('weir_trusted', 'x_tweets')).toEqual([])
    g.destroy()
    await glue.close()
  })

  it('weir catalog sync-glue: a table of results, and a one-line error for a local lake without --location', async () => {
    const { root } = await lakeWith([20])
    const env = { ...CREDS, AWS_REGION: 'eu-west-1' }
    const ok = await weir(
      ['catalog', 'sync-glue', '--lake', root, '--location', 's3://b/lake', '--endpoint', glueServer.url],
      env,
    )
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stdout).toMatch(/^trusted\s+x_tweets\s+created\s+1\s+0$/m)
    const local = await weir(['catalog', 'sync-glue', '--lake', root, '--endpoint', glueServer.url], env)
    expect(local.code).toBe(1)
    expect(local.stderr).toMatch(
      /^weir: catalog sync-glue: Glue tables point at S3, and the lake .* is not in S3; pass --location s3:\/\/bucket\/prefix .*\n$/,
    )
    // Glue's own refusal comes back as one line naming the call.
    const denied = await weir(
      [
        'catalog',
        'sync-glue',
        '--lake',
        root,
        '--location',
        's3://b/lake',
        '--endpoint',
        'http://127.0.0.1:9',
      ],
      env,
    )
    expect(denied.code).toBe(1)
    expect(denied.stderr).toMatch(/^weir: catalog sync-glue: get database trusted failed: .*\n$/)
  })

  it('registers an Iceberg table as Glue does (table_type ICEBERG, metadata_location), following each commit', async () => {
    const glue = await startGlue()
    const { store, add } = await lakeWith([20, 21], {}, 'iceberg')
    const g = client(glue.url)
    const current = async () => (await loadTable(store, 'trusted/x/tweets/'))!.version
    const [r] = await syncGlue(store, g, { root: 's3://b/lake', only: ['x_tweets'] })
    expect(r).toMatchObject({ action: 'created', partitionsAdded: 0 })
    const t = glue.tables.get('trusted.x_tweets')!
    expect(t.Parameters).toMatchObject({
      table_type: 'ICEBERG',
      metadata_location: `s3://b/lake/trusted/x/tweets/metadata/v${await current()}.metadata.json`,
    })
    expect(t.PartitionKeys ?? []).toEqual([])
    expect(t.StorageDescriptor?.Location).toBe('s3://b/lake/trusted/x/tweets/')
    expect(t.StorageDescriptor?.Columns?.at(-1)).toEqual({ Name: 'dt', Type: 'date' })
    expect(glue.partitions('trusted', 'x_tweets')).toEqual([])
    // A refine commits a new snapshot: the next sync moves the pointer to it.
    await add([22])
    const [again] = await syncGlue(store, g, { root: 's3://b/lake', only: ['x_tweets'] })
    expect(again!.action).toBe('updated')
    expect(glue.tables.get('trusted.x_tweets')!.Parameters?.metadata_location).toBe(
      `s3://b/lake/trusted/x/tweets/metadata/v${await current()}.metadata.json`,
    )
    g.destroy()
    await glue.close()
  })

  it("with catalog.glue set, every refine moves the Iceberg table's metadata_location; a Glue it cannot reach fails the run, said", async () => {
    const dir = await tempDir('weir-glue-follow-')
    const config = (endpoint: string) => `lake: ./lake
sources:
  x: { kind: demo, dataset: x, count: 100 }
tables:
  x.tweets: { eventTime: created_at, primaryKey: id, format: iceberg }
catalog:
  glue: { location: s3://b/lake, endpoint: '${endpoint}', region: eu-west-1 }
`
    const { writeFile } = await import('node:fs/promises')
    const { createLocalStore } = await import('../../src/storage/local/local-store.js')
    const lake = createLocalStore(`${dir}/lake`)
    const pointer = () => glueServer.tables.get('trusted.x_tweets')?.Parameters?.metadata_location
    const current = async () =>
      `s3://b/lake/trusted/x/tweets/metadata/v${(await loadTable(lake, 'trusted/x/tweets/'))!.version}.metadata.json`
    await writeFile(`${dir}/weir.yaml`, config(glueServer.url))
    // A model's table is an Iceberg table too: Glue follows its builds as well.
    const { mkdir } = await import('node:fs/promises')
    await mkdir(`${dir}/models`)
    await writeFile(
      `${dir}/models/tweet_days.sql`,
      "{{ config(materialized='table', partition_by='dt') }}\nselect dt, count(*) as tweets from {{ source('x', 'tweets') }} group by dt\n",
    )
    const model = () => glueServer.tables.get('refined.tweet_days')?.Parameters?.metadata_location
    const built = async () =>
      `s3://b/lake/refined/tweet_days/metadata/v${(await loadTable(lake, 'refined/tweet_days/'))!.version}.metadata.json`
    for (let round = 0; round < 2; round++) {
      const r = await weir(['run', '--once'], CREDS, dir)
      expect([r.code, r.stderr]).toEqual([0, ''])
      expect(pointer()).toBe(await current())
      expect(model()).toBe(await built())
    }
    expect(await built()).toMatch(/v2\.metadata\.json$/)
    expect(glueServer.tables.get('trusted.x_tweets__entities_hashtags')?.Parameters?.table_type).toBe(
      'ICEBERG',
    )
    // Glue down: the refine stands, the run says what is left to do and exits 1.
    await writeFile(`${dir}/weir.yaml`, config('http://127.0.0.1:9'))
    const down = await weir(['run', '--once'], CREDS, dir)
    expect(down.code).toBe(1)
    expect(down.stderr).toMatch(
      /glue: catalog sync-glue: .* failed: .*run `weir catalog sync-glue` once Glue is reachable/,
    )
    // A local lake with no S3 location for Glue is a config error, before anything runs.
    await writeFile(`${dir}/weir.yaml`, config(glueServer.url).replace('location: s3://b/lake, ', ''))
    const local = await weir(['run', '--once'], CREDS, dir)
    expect([local.code, local.stdout]).toEqual([1, ''])
    expect(local.stderr).toMatch(
      /^weir: weir\.yaml: invalid config: catalog\.glue\.location: Glue tables point at S3/,
    )
  })
})
