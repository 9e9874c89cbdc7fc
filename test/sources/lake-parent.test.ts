import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { configSchema } from '../../src/config/schema.js'
import { WeirError } from '../../src/core/errors.js'
import { openPipeline } from '../../src/pipeline/pipeline.js'
import { createSource } from '../../src/sources/registry.js'
import { type Simulator, startSimulator } from '../../src/sources/simulator/simulator.js'
import { tempDir } from '../helpers/services.js'

let sim: Simulator
const now = Date.now()
beforeAll(async () => {
  sim = await startSimulator({ tweetsPerHour: 300, historyDays: 2, now: () => now })
})
afterAll(async () => sim.close())

describe('a dependent endpoint driven by the lake (parent: { sql })', () => {
  it('asks for the current metrics of the tweets the lake holds, 100 ids a request, and again at each pull', async () => {
    const dir = await tempDir('weir-lake-parent-')
    const config = configSchema.parse({
      lake: join(dir, 'lake'),
      sources: {
        x: {
          preset: 'x.recent_search',
          baseUrl: sim.url,
          auth: { bearer: 't0ken-x' },
          params: { query: ['#duckdb'] },
        },
        metrics: {
          kind: 'rest',
          baseUrl: sim.url,
          auth: { bearer: 't0ken-x' },
          endpoints: {
            lookup: {
              preset: 'x.tweets_lookup',
              parent: { sql: 'select id from trusted.x_tweets order by id', fields: { ids: 'id' } },
              stamp: 'fetched_at',
            },
          },
        },
      },
      tables: { 'x.tweets': { eventTime: 'created_at', primaryKey: 'id' } },
    })
    const p = await openPipeline({ config, file: undefined, dir })
    try {
      await p.ingest(['x'])
      await p.land()
      await p.refine()
      const inLake = (await p.query('select id from trusted.x_tweets order by id')).rows.map((r) =>
        String(r.id),
      )
      expect(inLake.length).toBeGreaterThan(100) // so the lookup needs more than one request

      const before = sim.requests.length
      const first = await p.ingest(['metrics'])
      expect(first.tables).toEqual({ metrics_tweet_metrics: inLake.length })
      const lookups = sim.requests.slice(before).filter((r) => r.path === '/2/tweets')
      expect(lookups).toHaveLength(Math.ceil(inLake.length / 100))
      expect(lookups.flatMap((r) => r.query.ids!.split(',')).sort()).toEqual(inLake)

      // The query runs again at each pull: the metrics of the same tweets are asked for again.
      const again = await p.ingest(['metrics'])
      expect(again.tables).toEqual({ metrics_tweet_metrics: inLake.length })
      // Each run's reading is stamped: the metrics are queryable as of either run.
      await p.land()
      await p.refine()
      const runs = await p.query(
        'select count(distinct fetched_at) as runs, count(*) as n from raw.metrics_tweet_metrics',
      )
      expect(Number(runs.rows[0]!.n)).toBe(2 * inLake.length)
      expect(Number(runs.rows[0]!.runs)).toBeGreaterThanOrEqual(2)
    } finally {
      await p.close()
    }
  })

  it('asks for nothing while the lake lacks the table (the first run), and fails on a query that is wrong', async () => {
    const dir = await tempDir('weir-lake-parent-')
    const metrics = (sql: string) => ({
      kind: 'rest',
      baseUrl: sim.url,
      auth: { bearer: 't0ken-x' },
      endpoints: { lookup: { preset: 'x.tweets_lookup', parent: { sql, fields: { ids: 'id' } } } },
    })
    const config = configSchema.parse({
      lake: join(dir, 'lake'),
      sources: {
        fresh: metrics('select id from trusted.x_tweets'),
        wrong: metrics('selec id frm trusted.x_tweets'),
      },
    })
    const p = await openPipeline({ config, file: undefined, dir })
    try {
      const before = sim.requests.length
      const r = await p.ingest(['fresh'])
      expect(r.records).toBe(0)
      expect(sim.requests.length).toBe(before)
      await expect(p.ingest(['wrong'])).rejects.toThrow(/Parser Error/)
    } finally {
      await p.close()
    }
  })

  it('says in one line that a parent query needs the lake when the source runs without one', async () => {
    const sources = configSchema.parse({
      sources: {
        m: {
          kind: 'rest',
          baseUrl: sim.url,
          auth: { bearer: 't0ken-x' },
          endpoints: {
            lookup: { preset: 'x.tweets_lookup', parent: { sql: 'select 1 as id', fields: { ids: 'id' } } },
          },
        },
      },
    }).sources
    const source = createSource('m', sources.m!, sources)
    const state = { get: async () => undefined, put: async () => undefined }
    const err = await (async () => {
      for await (const _ of source.pull({ cursor: undefined, signal: new AbortController().signal, state })) {
      }
    })().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WeirError)
    expect((err as WeirError).message).toBe(
      'source m: a parent query needs the lake; run it with weir ingest or weir run',
    )
  })

  it('refuses a parent that names more than one of endpoint, source and sql', () => {
    const parsed = configSchema.safeParse({
      sources: {
        m: {
          kind: 'rest',
          baseUrl: 'http://127.0.0.1:1',
          endpoints: {
            lookup: { path: '/x', parent: { sql: 'select 1', source: 'other', fields: { id: 'id' } } },
          },
        },
      },
    })
    expect(parsed.success).toBe(false)
    expect(JSON.stringify(parsed.error?.issues)).toMatch(/exactly one of endpoint, source or sql/)
  })
})
