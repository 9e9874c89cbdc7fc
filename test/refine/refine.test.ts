import { icebergRead } from 'icebird'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getTable, putTable } from '../../src/catalog/catalog.js'
import { uriOf } from '../../src/catalog/iceberg/metadata.js'
import { loadTable } from '../../src/catalog/iceberg/table.js'
import { attachLake } from '../../src/catalog/views.js'
import { createEngine, type Engine, sqlList } from '../../src/engine/engine.js'
import { type LandingOptions, land } from '../../src/landing/landing.js'
import { compact } from '../../src/refine/compact.js'
import { type RefineOptions, refine } from '../../src/refine/refine.js'
import { createStateStore, type StateStore } from '../../src/state/state.js'
import { fetchLocalFiles } from '../helpers/file-fetch.js'
import { json, keys, scratchLake, text } from '../helpers/lake.js'
import { runSource } from '../helpers/rest.js'
import { tempDir } from '../helpers/services.js'

const landing = (state: StateStore, maxRecords = 100): LandingOptions => ({
  topics: ['x'],
  state,
  table: () => ({
    maxRecords,
    maxBytes: 10_000_000,
    maxAgeMs: 60_000,
    path: 'raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}',
    eventTime: 'created_at',
  }),
})
const BIG = 1590000000000000001n // beyond 2^53: a double would round it
const tweet = (i: number, day: number) => ({
  id: String(BIG + BigInt(i)),
  created_at: `2026-11-${day}T10:00:00Z`,
  public_metrics: { like_count: i },
  entities: { hashtags: [{ tag: `t${i % 3}` }] },
})

let engine: Engine
beforeAll(async () => {
  engine = await createEngine({ threads: 2 })
})
afterAll(async () => engine.close())

async function setup() {
  const lake = await scratchLake()
  const opts: RefineOptions = {
    // Hive-style folders: these tests read the trusted folder itself (Iceberg keeps replaced files).
    tables: { 'x.tweets': { eventTime: 'created_at', primaryKey: 'id', format: 'parquet' } },
    stagingDir: await tempDir('weir-staging-'),
  }
  return { ...lake, state: createStateStore(lake.store), opts }
}

describe('refine', () => {
  it('writes snappy Parquet partitioned by event date and registers the table', async () => {
    const { store, stream, state, opts, root } = await setup()
    await stream.publish(
      'x',
      [...Array(120).keys()].map((i) => json(tweet(i, i < 70 ? 20 : 21), 'tweets')),
    )
    await land(stream, store, landing(state))
    const [r] = await refine(store, engine, state, opts)
    expect(r).toMatchObject({ table: 'x_tweets', records: 120, errors: 0 })
    const parquet = await keys(store, 'trusted/x/tweets/')
    expect(parquet).toEqual([
      'trusted/x/tweets/dt=2026-11-20/part-000001-0.parquet',
      'trusted/x/tweets/dt=2026-11-21/part-000001-0.parquet',
    ])
    const meta = await engine.query(
      `select distinct compression from parquet_metadata(${sqlList(parquet.map((k) => `${root}/${k}`))})`,
    )
    expect(meta.rows).toEqual([{ compression: 'SNAPPY' }])
    const entry = await getTable(store, 'trusted', 'x_tweets')
    expect(entry).toMatchObject({
      zone: 'trusted',
      location: 'trusted/x/tweets/',
      format: 'parquet',
      partitioning: ['dt'],
    })
    expect(entry?.columns.map((c) => c.name)).toEqual([
      'id',
      'created_at',
      'public_metrics_like_count', // structs flattened
      'dt',
    ])
    expect(entry?.columns.find((c) => c.name === 'created_at')?.type).toMatch(/^TIMESTAMP/)
    // A list of objects is a child table, linked by the parent's key and the position in the list.
    const child = await getTable(store, 'trusted', 'x_tweets__entities_hashtags')
    expect(child).toMatchObject({
      location: 'trusted/x/tweets__entities_hashtags/',
      primaryKey: ['parent_id', 'position'],
    })
    expect(child?.columns.map((c) => c.name)).toEqual(['parent_id', 'dt', 'position', 'tag'])
    expect((await getTable(store, 'raw', 'x_tweets'))?.columns.length).toBe(4)
  })

  it('keeps ids beyond 2^53 exact and nested data queryable', async () => {
    const { store, stream, state, opts } = await setup()
    await stream.publish('x', [json(tweet(0, 20), 'tweets')])
    await land(stream, store, landing(state))
    await refine(store, engine, state, opts)
    const q = await createEngine()
    await attachLake(q, store)
    const { rows } = await q.query(
      `select t.id, t.public_metrics_like_count as likes, h.tag, h.position, t.dt
       from trusted.x_tweets t join trusted.x_tweets__entities_hashtags h on h.parent_id = t.id`,
    )
    expect(rows).toEqual([{ id: String(BIG), likes: 0, tag: 't0', position: 1, dt: '2026-11-20' }])
    await q.close()
  })

  it('is incremental: a second run refines only files landed since the bookmark', async () => {
    const { store, stream, state, opts } = await setup()
    await stream.publish(
      'x',
      [...Array(50).keys()].map((i) => json(tweet(i, 20), 'tweets')),
    )
    await land(stream, store, landing(state))
    expect((await refine(store, engine, state, opts))[0]?.records).toBe(50)
    expect((await refine(store, engine, state, opts))[0]).toMatchObject({ inputFiles: 0, records: 0 })
    await stream.publish(
      'x',
      [...Array(30).keys()].map((i) => json(tweet(100 + i, 20), 'tweets')),
    )
    await land(stream, store, landing(state))
    expect((await refine(store, engine, state, opts))[0]).toMatchObject({ inputFiles: 1, records: 30 })
    const q = await createEngine()
    await attachLake(q, store)
    expect(
      (await q.query('select count(*) as n, count(distinct id) as ids from trusted.x_tweets')).rows,
    ).toEqual([{ n: 80, ids: 80 }])
    await q.close()
  })

  it('sets rows without a readable event time aside in _errors/refine with the reason', async () => {
    const { store, stream, state, opts } = await setup()
    await stream.publish('x', [
      json(tweet(1, 20), 'tweets'),
      json({ id: '2', created_at: 'not a time' }, 'tweets'),
      json({ id: '3' }, 'tweets'),
    ])
    // Landing by ingestion time lets them through to raw (landing by event time sets them aside itself).
    await land(stream, store, { ...landing(state), timeBy: 'ingestion' })
    const [r] = await refine(store, engine, state, opts)
    expect(r).toMatchObject({ records: 1, errors: 2 })
    const [errFile] = await keys(store, '_errors/refine/x/tweets/')
    const rows = (await text(store, errFile!))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(rows.map((e) => [e.id, e._reason]).sort()).toEqual([
      ['2', 'event time "created_at" is missing or not a timestamp'],
      ['3', 'event time "created_at" is missing or not a timestamp'],
    ])
  })

  it('dedupes by primary key within a batch: the last copy wins', async () => {
    const { store, stream, state, opts } = await setup()
    await stream.publish('x', [json({ ...tweet(1, 20), v: 1 }, 'tweets')])
    await land(stream, store, landing(state))
    await stream.publish('x', [json({ ...tweet(1, 20), v: 2 }, 'tweets')])
    await land(stream, store, landing(state))
    const [r] = await refine(store, engine, state, opts)
    expect(r?.records).toBe(1)
    const q = await createEngine()
    await attachLake(q, store)
    expect((await q.query('select v from trusted.x_tweets')).rows).toEqual([{ v: 2 }])
    await q.close()
  })

  it('the same tweet landed five times with growing metrics is one row with the latest, across runs', async () => {
    const { store, stream, state, opts } = await setup()
    const copy = (likes: number, id = 7) =>
      json({ ...tweet(id, 20), public_metrics: { like_count: likes } }, 'tweets')
    // Two copies in one batch, then three more batches of one copy each, plus other tweets around.
    await stream.publish('x', [copy(1), json(tweet(1, 20), 'tweets'), copy(2)])
    await land(stream, store, landing(state))
    await refine(store, engine, state, opts)
    for (const likes of [3, 4, 5]) {
      await stream.publish('x', [copy(likes), json(tweet(100 + likes, 21), 'tweets')])
      await land(stream, store, landing(state))
      const [r] = await refine(store, engine, state, opts)
      expect(r).toMatchObject({ records: 2 })
    }
    const q = await createEngine()
    await attachLake(q, store)
    const { rows } = await q.query(
      `select id, public_metrics_like_count as likes from trusted.x_tweets order by id`,
    )
    expect(rows).toEqual([
      { id: String(BIG + 1n), likes: 1 },
      { id: String(BIG + 7n), likes: 5 },
      { id: String(BIG + 103n), likes: 103 },
      { id: String(BIG + 104n), likes: 104 },
      { id: String(BIG + 105n), likes: 105 },
    ])
    await q.close()
    // The rewritten partition's old files are gone; the catalog lists exactly the files there are.
    const entry = await getTable(store, 'trusted', 'x_tweets')
    expect(await keys(store, 'trusted/x/tweets/')).toEqual(entry?.files)
    expect((await keys(store, 'trusted/x/tweets/dt=2026-11-20/')).length).toBe(1)
  })

  it("a tweet's new copy replaces all its children in the child table (3 hashtags, then 1)", async () => {
    const { store, stream, state, opts } = await setup()
    const withTags = (id: number, tags: string[]) =>
      json({ ...tweet(id, 20), entities: { hashtags: tags.map((tag) => ({ tag })) } }, 'tweets')
    await stream.publish('x', [withTags(1, ['a', 'b', 'c']), withTags(2, ['x', 'y'])])
    await land(stream, store, landing(state))
    await refine(store, engine, state, opts)
    await stream.publish('x', [withTags(1, ['z'])])
    await land(stream, store, landing(state))
    await refine(store, engine, state, opts)
    const q = await createEngine()
    await attachLake(q, store)
    const { rows } = await q.query(
      'select parent_id, position, tag from trusted.x_tweets__entities_hashtags order by parent_id, position',
    )
    expect(rows).toEqual([
      { parent_id: String(BIG + 1n), position: 1, tag: 'z' },
      { parent_id: String(BIG + 2n), position: 1, tag: 'x' },
      { parent_id: String(BIG + 2n), position: 2, tag: 'y' },
    ])
    await q.close()
  })

  /** Keys 1, 2 and NULL, then '1', 'a' and NULL again: the key's type meets text. */
  async function keyMeetsText(format: 'parquet' | 'iceberg') {
    const { store, stream, state, opts } = await setup()
    const o = { ...opts, tables: { 'x.tweets': { eventTime: 'created_at', primaryKey: 'id', format } } }
    const row = (id: unknown, v: number) => json({ id, created_at: '2026-11-20T10:00:00Z', v }, 'tweets')
    const results = []
    for (const batch of [
      [row(1, 1), row(2, 1), row(null, 1)],
      [row('1', 2), row('a', 2), row(null, 2)],
    ]) {
      await stream.publish('x', batch)
      await land(stream, store, landing(state))
      results.push(...(await refine(store, engine, state, o)))
    }
    const q = await createEngine()
    await attachLake(q, store)
    const { rows } = await q.query('select id::varchar as id, v from trusted.x_tweets order by id nulls last')
    await q.close()
    return { store, rows, results }
  }

  it('a later copy replaces the old one when the key widened from number to text, and a NULL key is one key', async () => {
    const { rows } = await keyMeetsText('parquet')
    expect(rows).toEqual([
      { id: '1', v: 2 },
      { id: '2', v: 1 },
      { id: 'a', v: 2 },
      { id: null, v: 2 },
    ])
  })

  it('in an Iceberg table, whose key type cannot widen, a key that does not fit it sets its row aside, never a NULL key', async () => {
    const { store, rows, results } = await keyMeetsText('iceberg')
    expect(results[1]?.warnings.join()).toMatch(/1 rows did not fit the table's schema/)
    expect(rows).toEqual([
      { id: '1', v: 2 },
      { id: '2', v: 1 },
      { id: null, v: 2 },
    ])
    const [aside] = (await keys(store, '_errors/refine/x/tweets/')).filter((k) =>
      k.endsWith('-schema.ndjson'),
    )
    expect(await text(store, aside!)).toContain('"id":"a"')
  })

  it('refines a raw file again when its content changed, and a late file in an old folder once', async () => {
    const { store, stream, state, opts } = await setup()
    await stream.publish('x', [json(tweet(1, 20), 'tweets')])
    await land(stream, store, landing(state))
    await refine(store, engine, state, opts)
    const [file] = (await keys(store, 'raw/x/json/tweets/2026/11/20/')).filter((k) => k.endsWith('.ndjson'))
    // Someone fixes the raw file by hand: same name, new content.
    await store.put(file!, `${JSON.stringify({ ...tweet(1, 20), public_metrics: { like_count: 99 } })}\n`)
    // And a late file lands in an old folder.
    await store.put('raw/x/json/tweets/2026/11/19/late.ndjson', `${JSON.stringify(tweet(2, 19))}\n`)
    const [r] = await refine(store, engine, state, opts)
    expect(r).toMatchObject({ inputFiles: 2, changed: 1, records: 2 })
    expect((await refine(store, engine, state, opts))[0]).toMatchObject({ inputFiles: 0 })
    const q = await createEngine()
    await attachLake(q, store)
    expect(
      (await q.query('select id, public_metrics_like_count as likes, dt from trusted.x_tweets order by id'))
        .rows,
    ).toEqual([
      { id: String(BIG + 1n), likes: 99, dt: '2026-11-20' },
      { id: String(BIG + 2n), likes: 2, dt: '2026-11-19' },
    ])
    await q.close()
  })

  it('deletes files a crashed run left outside the catalog before it refines', async () => {
    const { store, stream, state, opts } = await setup()
    await stream.publish('x', [json(tweet(1, 20), 'tweets')])
    await land(stream, store, landing(state))
    await refine(store, engine, state, opts)
    await store.put('trusted/x/tweets/dt=2026-11-20/part-000002-0.parquet', 'half a file from a crash')
    await stream.publish('x', [json(tweet(2, 21), 'tweets')])
    await land(stream, store, landing(state))
    await refine(store, engine, state, opts)
    const entry = await getTable(store, 'trusted', 'x_tweets')
    expect(await keys(store, 'trusted/x/tweets/')).toEqual(entry?.files)
    expect(entry?.files).not.toContain('trusted/x/tweets/dt=2026-11-20/part-000002-0.parquet')
  })

  describe('schema evolution', () => {
    const doc = (id: number, extra: Record<string, unknown> = {}) =>
      json({ id: String(id), created_at: '2026-11-20T10:00:00Z', score: id, ...extra }, 'tweets')
    async function batches(
      policy: 'evolve' | 'quarantine' | 'freeze' | { policy: 'evolve' | 'quarantine'; format: 'iceberg' },
      ...sets: ReturnType<typeof doc>[][]
    ) {
      const { store, stream, state, opts } = await setup()
      const table =
        typeof policy === 'string'
          ? { schema: policy, format: 'parquet' as const }
          : { schema: policy.policy, format: policy.format }
      const o = { ...opts, tables: { 'x.tweets': { eventTime: 'created_at', primaryKey: 'id', ...table } } }
      const results = []
      for (const set of sets) {
        await stream.publish('x', set)
        await land(stream, store, landing(state))
        results.push(...(await refine(store, engine, state, o)))
      }
      const q = await createEngine()
      await attachLake(q, store)
      const rows = (await q.query('select * exclude (created_at, dt) from trusted.x_tweets order by id')).rows
      await q.close()
      return { store, results, rows, entry: await getTable(store, 'trusted', 'x_tweets') }
    }

    it('a new field mid-stream becomes a new column, null for older rows, in a new schema version', async () => {
      const { rows, entry, results } = await batches('evolve', [doc(1), doc(2)], [doc(3, { lang: 'en' })])
      expect(rows).toEqual([
        { id: '1', score: 1, lang: null },
        { id: '2', score: 2, lang: null },
        { id: '3', score: 3, lang: 'en' },
      ])
      expect(entry?.versions?.map((v) => [v.version, v.changes])).toEqual([
        [1, ['created']],
        [2, ['added lang VARCHAR']],
      ])
      expect(entry?.versions?.[1]?.firstFile).toMatch(/^raw\/x\/json\/tweets\/.*\.ndjson$/)
      expect(results.reduce((n, r) => n + r.records + r.errors, 0)).toBe(3)
    })

    it('evolve: an incompatible type widens the column to text, with a warning; nothing is lost', async () => {
      const { rows, entry, results } = await batches('evolve', [doc(1)], [doc(2, { score: 'high' })])
      expect(rows).toEqual([
        { id: '1', score: '1' },
        { id: '2', score: 'high' },
      ])
      expect(entry?.columns.find((c) => c.name === 'score')?.type).toBe('VARCHAR')
      expect(results[1]?.warnings).toEqual([
        'x_tweets: score: BIGINT and VARCHAR do not fit one another; widened to VARCHAR',
      ])
    })

    it('evolve on an Iceberg table: a type Iceberg cannot change in place stays; values that do not fit it go to a variant column', async () => {
      const { store, rows, entry, results } = await batches(
        { policy: 'evolve', format: 'iceberg' },
        [doc(1)],
        [doc(2, { score: 'high' }), doc(3, { score: '7' })],
        [doc(4, { score: 2.5 }), doc(5, { score: 5.0 })],
      )
      expect(rows).toEqual([
        { id: '1', score: 1, score__varchar: null, score__double: null },
        { id: '2', score: null, score__varchar: 'high', score__double: null },
        { id: '3', score: 7, score__varchar: null, score__double: null },
        { id: '4', score: null, score__varchar: null, score__double: 2.5 },
        { id: '5', score: 5, score__varchar: null, score__double: null },
      ])
      expect(entry?.columns.map((c) => `${c.name} ${c.type}`)).toEqual(
        expect.arrayContaining(['score BIGINT', 'score__varchar VARCHAR', 'score__double DOUBLE']),
      )
      expect(results[1]?.warnings).toEqual([
        'x_tweets: score: VARCHAR values that do not fit BIGINT (a type this table cannot change to VARCHAR) go to new column score__varchar',
      ])
      // An Iceberg reader sees the same rows: each column under one field id, its type never changed.
      const restore = fetchLocalFiles()
      try {
        const m = (await loadTable(store, 'trusted/x/tweets'))!.metadata
        expect(m.schemas.map((s) => s.fields.find((f) => f.name === 'score'))).toEqual(
          m.schemas.map(() => ({ id: 3, name: 'score', required: false, type: 'long' })),
        )
        const read = (await icebergRead({ tableUrl: uriOf(store, 'trusted/x/tweets') })) as Record<
          string,
          unknown
        >[]
        const plain = read
          .map(({ id, score, score__varchar, score__double }) => ({
            id,
            score: score === null || score === undefined ? null : Number(score),
            score__varchar: score__varchar ?? null,
            score__double: score__double ?? null,
          }))
          .sort((a, b) => Number(a.id) - Number(b.id))
        expect(plain).toEqual(rows)
      } finally {
        restore()
      }
    })

    it('quarantine on an Iceberg table: a widening Iceberg does not allow (BIGINT to DOUBLE) sets the rows aside', async () => {
      const { rows, entry } = await batches(
        { policy: 'quarantine', format: 'iceberg' },
        [doc(1)],
        [doc(2, { score: 2.5 }), doc(3, { score: 3.0 })],
      )
      expect(rows).toEqual([
        { id: '1', score: 1 },
        { id: '3', score: 3 },
      ])
      expect(entry?.columns.find((c) => c.name === 'score')?.type).toBe('BIGINT')
    })

    it('quarantine: rows whose values do not fit the column go to _errors/refine with the reason; widening still evolves', async () => {
      const { store, rows, entry, results } = await batches(
        'quarantine',
        [doc(1)],
        [doc(2, { score: 'high' }), doc(3, { score: '7' })],
        [doc(4, { score: 2.5 })],
      )
      expect(rows).toEqual([
        { id: '1', score: 1 },
        { id: '3', score: 7 },
        { id: '4', score: 2.5 },
      ])
      expect(entry?.columns.find((c) => c.name === 'score')?.type).toBe('DOUBLE')
      expect(entry?.versions?.at(-1)?.changes).toEqual(['score: BIGINT widened to DOUBLE'])
      const [errFile] = (await keys(store, '_errors/refine/x/tweets/')).filter((k) =>
        k.endsWith('-schema.ndjson'),
      )
      const bad = JSON.parse((await text(store, errFile!)).trim())
      expect(bad).toMatchObject({
        _reason: 'column score: VARCHAR does not fit BIGINT',
        id: '2',
        score: 'high',
      })
      expect(results.reduce((n, r) => n + r.records + r.errors, 0)).toBe(4)
    })

    it('freeze: rows bringing a new column are set aside too; the schema stays at its first version', async () => {
      const { rows, entry, results } = await batches('freeze', [doc(1)], [doc(2, { lang: 'en' }), doc(3)])
      expect(rows).toEqual([
        { id: '1', score: 1 },
        { id: '3', score: 3 },
      ])
      expect(entry?.versions).toHaveLength(1)
      expect(results[1]).toMatchObject({ records: 1, errors: 1 })
    })
  })

  it('refines CSV raw tables (movies) to typed, unpartitioned Parquet, deduped by key across files', async () => {
    const { store, state, opts } = await setup()
    await putTable(store, {
      zone: 'raw',
      name: 'm_movies',
      source: 'm',
      resource: 'movies',
      location: 'raw/m/csv/movies/',
      format: 'csv',
      csv: { delimiter: ',', quote: '"', header: true, encoding: 'utf-8', null: [] },
      partitioning: ['yyyy', 'mm', 'dd'],
      columns: [],
      updatedAt: new Date().toISOString(),
    })
    await store.put(
      'raw/m/csv/movies/2026/11/20/movies.csv',
      'imdb_id,title,year,rating\ntt01,"Alien, the first",1979,8.5\ntt02,Heat,1995,8.3\n',
    )
    const o = { ...opts, tables: { 'm.movies': { primaryKey: 'imdb_id', format: 'parquet' as const } } }
    expect((await refine(store, engine, state, o))[0]).toMatchObject({
      table: 'm_movies',
      records: 2,
      errors: 0,
    })
    await store.put(
      'raw/m/csv/movies/2026/11/21/movies.csv',
      'imdb_id,title,year,rating\ntt02,Heat,1995,8.4\n',
    )
    await refine(store, engine, state, o)
    const entry = await getTable(store, 'trusted', 'm_movies')
    expect(entry).toMatchObject({ location: 'trusted/m/movies/', partitioning: [], primaryKey: ['imdb_id'] })
    expect(Object.fromEntries(entry!.columns.map((c) => [c.name, c.type]))).toEqual({
      imdb_id: 'VARCHAR',
      title: 'VARCHAR',
      year: 'BIGINT',
      rating: 'DOUBLE',
    })
    expect(await keys(store, 'trusted/m/movies/')).toEqual(['trusted/m/movies/part-000002-m0.parquet'])
    const q = await createEngine()
    await attachLake(q, store)
    expect((await q.query('select * from trusted.m_movies order by imdb_id')).rows).toEqual([
      { imdb_id: 'tt01', title: 'Alien, the first', year: 1979, rating: 8.5 },
      { imdb_id: 'tt02', title: 'Heat', year: 1995, rating: 8.4 },
    ])
    await q.close()
  })

  it('a primary key no record has fails with the setting to fix, not a SQL binder error', async () => {
    const { store, stream, state, opts } = await setup()
    await stream.publish('x', [json(tweet(1, 20), 'tweets')])
    await land(stream, store, landing(state))
    const err = await refine(store, engine, state, {
      ...opts,
      tables: { 'x.tweets': { eventTime: 'created_at', primaryKey: 'tweet_id', format: 'parquet' } },
    }).catch((e: unknown) => e)
    expect((err as Error).message).toBe(
      'refine x_tweets: the primary key field "tweet_id" is in none of the raw records; set tables."x.tweets".primaryKey to fields they have (see `weir catalog describe raw.x_tweets`)',
    )
  })

  it('refines Parquet files landed as they are, with the schema from their footers, evolving on a new column', async () => {
    const { store, stream, state, opts } = await setup()
    const dir = await tempDir('weir-parquet-src-')
    const write = (name: string, sql: string) =>
      engine.run(`COPY (${sql}) TO '${dir}/${name}' (FORMAT parquet)`)
    await write(
      'obs-1.parquet',
      `select i as station_id, TIMESTAMP '2026-11-20 06:00:00' + to_hours(i) as observed_at,
         (i * 1.5)::DOUBLE as temperature, 9007199254740993::BIGINT + i as reading_id
       from range(3) t(i)`,
    )
    const project = { weather: { kind: 'file', path: `${dir}/*.parquet`, resource: 'observations' } }
    const tables = { 'weather.observations': { eventTime: 'observed_at', primaryKey: 'reading_id' } }
    expect((await runSource(project, 'weather', { store, stream })).files).toBe(1)
    const raw = await getTable(store, 'raw', 'weather_observations')
    expect(raw).toMatchObject({ format: 'parquet', location: 'raw/weather/parquet/observations/' })
    const [r] = await refine(store, engine, state, { ...opts, tables })
    expect(r).toMatchObject({ table: 'weather_observations', inputFiles: 1, records: 3, errors: 0 })
    // A second file brings a column: the table evolves, older rows read null.
    await write(
      'obs-2.parquet',
      `select 7 as station_id, TIMESTAMP '2026-11-21 06:00:00' as observed_at, 2.5::DOUBLE as temperature,
         9007199254740999::BIGINT as reading_id, 80 as humidity`,
    )
    await runSource(project, 'weather', { store, stream })
    expect((await refine(store, engine, state, { ...opts, tables }))[0]).toMatchObject({ records: 1 })
    const trusted = await getTable(store, 'trusted', 'weather_observations')
    expect(trusted?.columns).toEqual([
      { name: 'station_id', type: 'BIGINT' },
      { name: 'observed_at', type: 'TIMESTAMP' },
      { name: 'temperature', type: 'DOUBLE' },
      { name: 'reading_id', type: 'BIGINT' },
      { name: 'dt', type: 'DATE' },
      { name: 'humidity', type: 'INTEGER' }, // new columns come last, as ALTER TABLE ADD COLUMNS puts them
    ])
    expect(trusted?.versions?.map((v) => v.version)).toEqual([1, 2])
    const q = await createEngine()
    await attachLake(q, store)
    expect(
      (
        await q.query(
          'select reading_id::VARCHAR as id, humidity, dt from trusted.weather_observations order by reading_id',
        )
      ).rows,
    ).toEqual([
      { id: '9007199254740993', humidity: null, dt: '2026-11-20' },
      { id: '9007199254740994', humidity: null, dt: '2026-11-20' },
      { id: '9007199254740995', humidity: null, dt: '2026-11-20' },
      { id: '9007199254740999', humidity: 80, dt: '2026-11-21' },
    ])
    await q.close()
  })

  it('compacts the small files of each partition into one, swapped in the catalog, rows unchanged', async () => {
    const { store, stream, state, opts } = await setup()
    const o = { ...opts, tables: { 'x.tweets': { eventTime: 'created_at', format: 'parquet' as const } } } // no key: one file per batch
    for (let b = 0; b < 3; b++) {
      await stream.publish(
        'x',
        Array.from({ length: 10 }, (_, i) => json(tweet(b * 10 + i, 20 + (i % 2)), 'tweets')),
      )
      await land(stream, store, landing(state))
      await refine(store, engine, state, o)
    }
    expect(await keys(store, 'trusted/x/tweets/')).toHaveLength(6) // 3 batches × 2 days
    const [r] = await compact(store, engine, {
      stagingDir: await tempDir('weir-compact-'),
      only: ['x_tweets'],
    })
    expect(r).toMatchObject({ table: 'x_tweets', partitions: 2, filesBefore: 6, filesAfter: 2 })
    const after = await keys(store, 'trusted/x/tweets/')
    expect(after).toHaveLength(2)
    expect(after.every((k) => /\/dt=2026-11-2[01]\/part-c\d{14}-0\.parquet$/.test(k))).toBe(true)
    expect((await getTable(store, 'trusted', 'x_tweets'))?.files).toEqual(after)
    const q = await createEngine()
    await attachLake(q, store)
    expect(
      (
        await q.query(
          'select count(*) as n, count(distinct id) as ids, count(distinct dt) as days from trusted.x_tweets',
        )
      ).rows,
    ).toEqual([{ n: 30, ids: 30, days: 2 }])
    await q.close()
  })

  it('keeps a field that first appears deep in a large raw file', async () => {
    const { store, stream, state, opts } = await setup()
    const rows = [...Array(25_000).keys()].map((i) =>
      // One fingerprint from the publisher, so both structures share one file, as a file source's would.
      ({
        ...json(i === 24_999 ? { ...tweet(i, 20), late: 'here' } : tweet(i, 20), 'tweets'),
        headers: { resource: 'tweets', fp: 'one' },
      }),
    )
    await stream.publish('x', rows)
    await land(stream, store, landing(state, 30_000))
    const [r] = await refine(store, engine, state, opts)
    expect(r).toMatchObject({ inputFiles: 1, records: 25_000 })
    const q = await createEngine()
    await attachLake(q, store)
    expect((await q.query('select late from trusted.x_tweets where late is not null')).rows).toEqual([
      { late: 'here' },
    ])
    await q.close()
  })
})
