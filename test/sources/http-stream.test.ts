import { afterEach, describe, expect, it } from 'vitest'
import { configSchema } from '../../src/config/schema.js'
import { WeirError } from '../../src/core/errors.js'
import { ingest } from '../../src/sources/ingest.js'
import { createSource } from '../../src/sources/registry.js'
import { type Simulator, startSimulator } from '../../src/sources/simulator/simulator.js'
import type { Source } from '../../src/sources/source.js'
import { memoryState, scratchLake } from '../helpers/lake.js'

let sim: Simulator | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

const ALL_TAGS = '#dataengineering OR #duckdb OR #aws OR #opensource OR #analytics OR #streaming'

function source(name: string, cfg: Record<string, unknown>): Source {
  const parsed = configSchema.parse({ lake: '/tmp/unused', sources: { [name]: cfg } })
  return createSource(name, parsed.sources[name]!, parsed.sources)
}

async function read(stream: Awaited<ReturnType<typeof scratchLake>>['stream'], topic: string) {
  const out: { data: Record<string, unknown>; resource: string; timestamp: number }[] = []
  for await (const batch of stream.readSince(topic, 0))
    for (const d of batch)
      out.push({
        data: JSON.parse(Buffer.from(d.value).toString()),
        resource: d.headers.resource!,
        timestamp: d.timestamp,
      })
  return out
}

describe('streaming HTTP sources', () => {
  it("X's filtered stream: rules from config replace the app's, tweets come with their authors and matching rules, keep-alives are skipped", async () => {
    sim = await startSimulator({ streams: { rate: 200, keepAliveMs: 20 } })
    const lake = await scratchLake()
    // A rule left from elsewhere is deleted; the config's rules are the app's whole set.
    await fetch(`${sim.url}/2/tweets/search/stream/rules`, {
      method: 'POST',
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      body: JSON.stringify({ add: [{ value: 'stale rule' }] }),
    })
    const src = source('xs', {
      kind: 'http-stream',
      preset: 'x.filtered_stream',
      baseUrl: sim.url,
      auth: { bearer: 't0ken-x' },
      rules: [{ value: '#duckdb', tag: 'duck' }, { value: '#aws' }],
      runFor: '1500ms',
      batch: { maxAge: '100ms' },
    })
    const state = memoryState()
    const r = await ingest(src, lake.stream, lake.store, { state })
    expect(sim.streams.rules.map((x) => x.value).sort()).toEqual(['#aws', '#duckdb'])
    expect(r.partial).toBeUndefined()
    expect(r.byResource.tweets).toBeGreaterThan(20)
    expect(r.batches).toBeGreaterThan(3) // published as they came, not at the end
    const got = await read(lake.stream, 'xs')
    const tweets = got.filter((g) => g.resource === 'tweets')
    for (const t of tweets) {
      expect(String(t.data.text)).toMatch(/#duckdb|#aws/)
      const rules = t.data.matching_rules as { tag?: string }[]
      expect(rules.length).toBeGreaterThan(0)
      if (String(t.data.text).includes('#duckdb')) expect(rules.some((m) => m.tag === 'duck')).toBe(true)
    }
    expect(got.filter((g) => g.resource === 'users').length).toBe(tweets.length)
    expect(new Set(tweets.map((t) => t.data.id)).size).toBe(tweets.length)
  })

  it('SSE: a restart resumes with Last-Event-ID, so the two runs hold every event exactly once', async () => {
    sim = await startSimulator({ streams: { rate: 300, keepAliveMs: 50 } })
    const lake = await scratchLake()
    const cfg = {
      kind: 'http-stream',
      baseUrl: sim.url,
      path: '/sse/readings',
      format: 'sse',
      runFor: '700ms',
    }
    const state = memoryState()
    const first = await ingest(source('feed', cfg), lake.stream, lake.store, { state })
    // Events keep flowing while nothing reads them: the second run asks for them back.
    await new Promise((r) => setTimeout(r, 300))
    const second = await ingest(source('feed', cfg), lake.stream, lake.store, { state })
    expect(first.records).toBeGreaterThan(50)
    expect(second.records).toBeGreaterThan(50)
    const seqs = (await read(lake.stream, 'feed')).map((g) => g.data.seq as number)
    expect(seqs.length).toBe(first.records + second.records)
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i))
    const lastEventIds = sim.requests.filter((q) => q.path === '/sse/readings')
    expect(lastEventIds.length).toBe(2)
  })

  it('after a disconnect, backfill_minutes gets back what passed meanwhile and what was seen is not published twice', async () => {
    sim = await startSimulator({ streams: { rate: 400, keepAliveMs: 20, total: 600 } })
    const lake = await scratchLake()
    const src = source('xs', {
      kind: 'http-stream',
      preset: 'x.filtered_stream',
      baseUrl: sim.url,
      auth: { bearer: 't' },
      rules: [{ value: ALL_TAGS }],
      backfillMinutes: 2,
      runFor: '3s',
      batch: { maxAge: '50ms' },
    })
    const s = sim
    const drops = [300, 700, 1100].map((ms) => setTimeout(() => s.streams.disconnect(ms === 700), ms))
    const r = await ingest(src, lake.stream, lake.store, { state: memoryState() })
    for (const t of drops) clearTimeout(t)
    const ids = (await read(lake.stream, 'xs')).filter((g) => g.resource === 'tweets').map((g) => g.data.id)
    expect(r.byResource.tweets).toBe(600)
    expect(ids.length).toBe(600)
    expect(new Set(ids).size).toBe(600)
    const connects = sim.requests.filter((q) => q.path === '/2/tweets/search/stream')
    expect(connects.length).toBeGreaterThanOrEqual(4)
    expect(connects.slice(1).every((q) => q.query.backfill_minutes === '1')).toBe(true)
  })

  it('a stream that cannot be reached fails the one-shot read with a clear error; a refused credential fails at once', async () => {
    sim = await startSimulator({ streams: { rate: 10 } })
    const lake = await scratchLake()
    const down = source('feed', {
      kind: 'http-stream',
      baseUrl: 'http://127.0.0.1:9',
      path: '/sse/readings',
      format: 'sse',
      runFor: '600ms',
    })
    const err = await ingest(down, lake.stream, lake.store, { state: memoryState() }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WeirError)
    expect((err as WeirError).message).toMatch(/source feed: cannot connect to 127\.0\.0\.1:9/)
    const refused = source('xs', {
      kind: 'http-stream',
      preset: 'x.filtered_stream',
      baseUrl: sim.url,
      runFor: '5s',
    })
    const t0 = Date.now()
    const e2 = await ingest(refused, lake.stream, lake.store, { state: memoryState() }).catch(
      (e: unknown) => e,
    )
    expect((e2 as WeirError).message).toMatch(/HTTP 401.*check the credentials/)
    expect(Date.now() - t0).toBeLessThan(4000)
  })

  it('a config that schedules a stream, or names a streaming preset there is not, fails when it loads', () => {
    const stream = { kind: 'http-stream', preset: 'x.filtered_stream', auth: { bearer: 't' } }
    const scheduled = configSchema.safeParse({
      sources: { xs: stream },
      run: { jobs: { xs: { schedule: 'rate(5 minutes)' } } },
    })
    expect(scheduled.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      [
        'run.jobs.xs.schedule',
        'xs is a stream: weir run reads it for as long as it runs, so it takes no schedule or after',
      ],
    ])
    const unknown = configSchema.safeParse({ sources: { xs: { ...stream, preset: 'x.firehose' } } })
    expect(unknown.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['sources.xs.preset', 'no streaming preset "x.firehose" (see docs/presets.md: x.filtered_stream)'],
    ])
  })

  it("reconnects with X's backoff: at once after a drop, then exponentially from the HTTP error's start", async () => {
    sim = await startSimulator({ streams: { rate: 100, keepAliveMs: 20 } })
    const lake = await scratchLake()
    sim.inject({ path: '/sse/readings', status: 503, count: 2 })
    const src = source('feed', {
      kind: 'http-stream',
      baseUrl: sim.url,
      path: '/sse/readings',
      format: 'sse',
      runFor: '1500ms',
      reconnect: { httpStart: '100ms' },
    })
    const r = await ingest(src, lake.stream, lake.store, { state: memoryState() })
    const at = sim.requests.filter((q) => q.path === '/sse/readings').map((q) => q.at)
    expect(at.length).toBe(3)
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(90)
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(190)
    expect(r.records).toBeGreaterThan(0)
  })
})
