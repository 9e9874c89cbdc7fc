import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getTable, listTables, type TableEntry } from '../../src/catalog/catalog.js'
import { attachLake } from '../../src/catalog/views.js'
import { WeirError } from '../../src/core/errors.js'
import { createEngine, type Engine } from '../../src/engine/engine.js'
import { type LandingOptions, land } from '../../src/landing/landing.js'
import { type Ledger, readLedger } from '../../src/refine/files.js'
import { type RefineOptions, refine } from '../../src/refine/refine.js'
import { parseRewind, rewind } from '../../src/refine/rewind.js'
import { createStateStore, type StateStore } from '../../src/state/state.js'
import type { ObjectStore } from '../../src/storage/storage.js'
import { json, keys, scratchLake } from '../helpers/lake.js'
import { tempDir } from '../helpers/services.js'

const landing = (state: StateStore): LandingOptions => ({
  topics: ['x'],
  state,
  table: () => ({
    maxRecords: 25,
    maxBytes: 10_000_000,
    maxAgeMs: 60_000,
    path: 'raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}',
    eventTime: 'created_at',
  }),
})
const tweet = (i: number, day: number) => ({
  id: String(1590000000000000001n + BigInt(i)),
  created_at: `2026-11-${day}T10:00:00Z`,
  public_metrics: { like_count: i },
  entities: { hashtags: [{ tag: `a${i}` }, { tag: `b${i}` }] },
})

let engine: Engine
beforeAll(async () => {
  engine = await createEngine({ threads: 2 })
})
afterAll(async () => engine.close())

/** 60 tweets of the 20th and 40 of the 21st, landed in files of 25, refined once. */
async function refined(primaryKey?: string) {
  const lake = await scratchLake()
  const state = createStateStore(lake.store)
  const opts: RefineOptions = {
    // Hive-style: the tests read the trusted folder (Iceberg's rewind: test/catalog/iceberg.test.ts).
    tables: {
      'x.tweets': { eventTime: 'created_at', format: 'parquet', ...(primaryKey ? { primaryKey } : {}) },
    },
    stagingDir: await tempDir('weir-staging-'),
  }
  await lake.stream.publish(
    'x',
    [...Array(100).keys()].map((i) => json(tweet(i, i < 60 ? 20 : 21), 'tweets')),
  )
  await land(lake.stream, lake.store, landing(state))
  await refine(lake.store, engine, state, opts)
  const raw = (await listTables(lake.store, 'raw')).find((t) => t.name === 'x_tweets') as TableEntry
  return { ...lake, state, opts, raw }
}

async function counts(store: ObjectStore) {
  const q = await createEngine()
  await attachLake(q, store)
  const rows = (
    await q.query(
      `select (select count(*) from trusted.x_tweets) as n, (select count(distinct id) from trusted.x_tweets) as ids,
        (select count(*) from trusted.x_tweets where dt = '2026-11-21') as day21`,
    )
  ).rows[0]
  const children = (await listTables(store, 'trusted')).some((t) => t.name === 'x_tweets__entities_hashtags')
    ? (await q.query('select count(*) as n from trusted.x_tweets__entities_hashtags')).rows[0]?.n
    : undefined
  await q.close()
  return { ...rows, children }
}

describe('refine --rewind', () => {
  it('parses a date, a time, a duration ago, and a raw file or folder', () => {
    const now = new Date('2026-11-22T12:00:00Z')
    expect(parseRewind('2026-11-20', now)).toEqual({ since: new Date('2026-11-20T00:00:00Z') })
    expect(parseRewind('2026-11-20T06:00:00Z', now)).toEqual({ since: new Date('2026-11-20T06:00:00Z') })
    expect(parseRewind('6h', now)).toEqual({ since: new Date('2026-11-22T06:00:00Z') })
    expect(parseRewind('raw/x/json/tweets/2026/11/20/', now)).toEqual({
      prefix: 'raw/x/json/tweets/2026/11/20/',
    })
    expect(() => parseRewind('last tuesday', now)).toThrow(/expected a time/)
  })

  it('rebuilds only the partitions of the rewound folder, with no duplicate even without a primary key', async () => {
    const { store, state, opts, raw } = await refined()
    expect(await counts(store)).toMatchObject({ n: 100, ids: 100, day21: 40 })
    const before = await getTable(store, 'trusted', 'x_tweets')
    const day21 = before?.files?.filter((k) => k.includes('dt=2026-11-21'))
    const ledger = await readLedger(state, 'refine/x_tweets')
    const rawDay20 = Object.keys(ledger.files).filter((k) => k.includes('/2026/11/20/'))
    expect(rawDay20.length).toBe(3)
    // The ledger knows each file's rows and the partitions they went to.
    expect(ledger.files[rawDay20[0]!]).toMatchObject({ records: 25, parts: ['dt=2026-11-20'] })

    const r = await rewind(store, engine, state, raw, { prefix: 'raw/x/json/tweets/2026/11/20' })
    expect(r).toEqual({ table: 'x_tweets', named: 3, files: 3, partitions: ['dt=2026-11-20'] })
    // Taken out at once: readers see the 21st only until refine rebuilds the 20th.
    expect(await counts(store)).toMatchObject({ n: 40, day21: 40 })
    const live = (await getTable(store, 'trusted', 'x_tweets'))!.files ?? []
    expect(live.filter((k) => k.includes('/dt=2026-11-20/'))).toEqual([])
    const [again] = await refine(store, engine, state, opts)
    expect(again).toMatchObject({ inputFiles: 3, records: 60 })
    expect(await counts(store)).toMatchObject({ n: 100, ids: 100, day21: 40 })
    // The 21st was not touched.
    const after = await getTable(store, 'trusted', 'x_tweets')
    expect(after?.files?.filter((k) => k.includes('dt=2026-11-21'))).toEqual(day21)
    expect(await keys(store, 'trusted/x/tweets/')).toEqual(after?.files)
    expect((await refine(store, engine, state, opts))[0]).toMatchObject({ inputFiles: 0 })
  })

  it('rewinds by time, and rebuilds the child tables of a keyed table with the same rows', async () => {
    const { store, state, opts, raw } = await refined('id')
    const clean = await counts(store)
    expect(clean).toMatchObject({ n: 100, ids: 100, children: 200 })
    // Everything landed since an hour ago: the whole table.
    const r = await rewind(store, engine, state, raw, parseRewind('1h'))
    expect(r).toMatchObject({ named: 5, files: 5, partitions: ['dt=2026-11-20', 'dt=2026-11-21'] })
    expect(await counts(store)).toMatchObject({ n: 0, children: 0 })
    await refine(store, engine, state, opts)
    expect(await counts(store)).toEqual(clean)
    // Nothing landed in the future.
    expect((await rewind(store, engine, state, raw, { since: new Date(Date.now() + 3600_000) })).named).toBe(
      0,
    )
  })

  it('a rewind interrupted after its ledger write is finished by the next refine', async () => {
    const { store, state, opts } = await refined('id')
    const ledger = await readLedger(state, 'refine/x_tweets')
    // As a crash leaves it: the files forgotten and the partition noted, the catalog not yet changed.
    const forgotten = Object.entries(ledger.files).filter(([, f]) => f.parts?.includes('dt=2026-11-21'))
    await state.put('refine/x_tweets', {
      seq: ledger.seq,
      files: Object.fromEntries(
        Object.entries(ledger.files).filter(([, f]) => !forgotten.some(([, g]) => g === f)),
      ),
      drop: ['dt=2026-11-21'],
    } satisfies Ledger)
    await refine(store, engine, state, opts)
    expect(await counts(store)).toMatchObject({ n: 100, ids: 100, day21: 40, children: 200 })
    expect((await readLedger(state, 'refine/x_tweets')).drop).toBeUndefined()
  })

  it('refuses, changing nothing, when the partitions need raw files that are gone', async () => {
    const { store, state, raw } = await refined()
    const ledger = await readLedger(state, 'refine/x_tweets')
    const [first, second] = Object.keys(ledger.files).filter((k) => k.includes('/2026/11/20/'))
    await store.delete(first!)
    const err = await rewind(store, engine, state, raw, { prefix: second! }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WeirError)
    expect((err as WeirError).message).toMatch(/no longer in the lake \(raw\/x\/json\/tweets\/2026\/11\/20\//)
    expect(await readLedger(state, 'refine/x_tweets')).toEqual(ledger)
    expect(await counts(store)).toMatchObject({ n: 100 })
  })
})
