import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WeirError } from '../../src/core/errors.js'
import { type Simulator, startSimulator } from '../../src/sources/simulator/simulator.js'
import { createStateStore } from '../../src/state/state.js'
import { scratchLake } from '../helpers/lake.js'
import { fastRetry, ids, published, runSource } from '../helpers/rest.js'

const HOUR = 3_600_000
let sim: Simulator
let now = Date.now()
beforeAll(async () => {
  sim = await startSimulator({ tweetsPerHour: 120, historyDays: 2, now: () => now })
})
afterAll(async () => sim.close())

const search = (extra: Record<string, unknown> = {}) => ({
  x: {
    preset: 'x.recent_search',
    baseUrl: sim.url,
    auth: { bearer: 't' },
    params: { query: ['#duckdb', '#aws'] },
    retry: fastRetry,
    ...extra,
  },
})

/** Matching tweets the simulator holds now, by tag. */
function expected(tags: string[], after = -1) {
  const w = sim.world
  const out: string[] = []
  for (let i = w.tweetCount(now) - 1; i > after; i--) if (tags.includes(w.tweetTag(i))) out.push(w.tweetId(i))
  return out.sort()
}

describe('incremental REST sources', () => {
  it('a second run asks only for what is new, per query, and publishes only new tweets', async () => {
    const lake = await scratchLake()
    const first = await runSource(search(), 'x', lake)
    const firstIds = ids(await published(lake.stream, 'x', 'a'), 'tweets')
    expect(firstIds).toEqual(expected(['duckdb', 'aws']))
    const cursor = (await createStateStore(lake.store).get<{
      cursor: { partitions: Record<string, { value: string }> }
    }>('sources/x'))!
    const parts = cursor.cursor.partitions
    expect(Object.keys(parts).sort()).toEqual(['recent_search:"#aws"', 'recent_search:"#duckdb"'])
    expect(first.records).toBeGreaterThan(0)

    const lastIndex = sim.world.tweetCount(now) - 1
    now += 5 * HOUR // five hours of new tweets
    const before = sim.requests.length
    await runSource(search(), 'x', lake)
    const asked = sim.requests.slice(before)
    // Each query sends its own cursor: the newest id it had seen.
    expect(
      [...new Set(asked.map((r) => `${r.query.query}|${r.query.since_id}`))].map((k) => k.split('|')).sort(),
    ).toEqual(
      [
        ['#aws', parts['recent_search:"#aws"']!.value],
        ['#duckdb', parts['recent_search:"#duckdb"']!.value],
      ].sort(),
    )
    const second = ids(await published(lake.stream, 'x', 'a'), 'tweets')
    expect(second).toEqual(expected(['duckdb', 'aws'], lastIndex))
    expect(second.length).toBeGreaterThan(0)
    expect(second.filter((id) => firstIds.includes(id))).toEqual([])
  })

  it('429s (all three header styles), 500s, cut-off bodies and timeouts are waited out or retried: nothing lost, nothing twice', async () => {
    const lake = await scratchLake()
    sim.inject({ path: '/2/tweets/search/recent', status: 429, style: 'retry-after', retryAfterSeconds: 0 })
    sim.inject({ path: '/2/tweets/search/recent', status: 500, count: 2 })
    sim.inject({ path: '/2/tweets/search/recent', status: 429, style: 'x-rate-limit', retryAfterSeconds: 0 })
    sim.inject({ path: '/2/tweets/search/recent', status: 429, style: 'ratelimit', retryAfterSeconds: 0 })
    sim.inject({ path: '/2/tweets/search/recent', status: 503 })
    sim.inject({ path: '/2/tweets/search/recent', truncate: true })
    sim.inject({ path: '/2/tweets/search/recent', delayMs: 400 }) // longer than the timeout
    const before = sim.requests.length
    const r = await runSource(search({ retry: { ...fastRetry, attempts: 9 }, timeout: '150ms' }), 'x', lake)
    expect(r.partial).toBeUndefined()
    const statuses = sim.requests.slice(before).map((q) => q.status)
    expect(statuses.filter((s) => s === 429)).toHaveLength(3)
    expect(statuses.filter((s) => s >= 500)).toHaveLength(3)
    const got = ids(await published(lake.stream, 'x'), 'tweets')
    expect(got).toEqual(expected(['duckdb', 'aws']))
    expect(new Set(got).size).toBe(got.length)
  })

  it('when retries run out it fails in one line naming source and endpoint; the cursor stays at the last published page', async () => {
    const lake = await scratchLake()
    const state = createStateStore(lake.store)
    const cfg = search({ concurrency: 1 })
    // #duckdb completes; #aws gets its first page, then every request for a later page fails.
    sim.inject({
      path: '/2/tweets/search/recent',
      status: 500,
      count: 100,
      query: (q) => q.query === '#aws' && Boolean(q.next_token),
    })
    const before = sim.requests.length
    const err = await runSource(cfg, 'x', lake).catch((e: unknown) => e)
    const failed = sim.requests.slice(before).filter((r) => r.status === 500)
    sim.clearFaults()
    expect(err).toBeInstanceOf(WeirError)
    expect((err as Error).message).toMatch(
      /^source x: GET \/2\/tweets\/search\/recent failed after 4 attempts: HTTP 500/,
    )
    expect((err as Error).message).not.toContain('\n')
    expect(failed).toHaveLength(4)
    const saved = (await state.get<{
      cursor: { partitions: Record<string, { value?: string; resume?: unknown }> }
    }>('sources/x'))!
    const parts = saved.cursor.partitions
    expect(parts['recent_search:"#duckdb"']?.value).toBe(expected(['duckdb']).at(-1))
    expect(parts['recent_search:"#aws"']?.resume).toBeDefined() // resumes after the page that was published
    expect(parts['recent_search:"#aws"']?.value).toBeUndefined()

    // The next run, an hour later, finishes #aws from where it stopped, then asks for what came
    // since: every tweet up to now, exactly once over both runs.
    now += HOUR
    await runSource(cfg, 'x', lake)
    const all = ids(await published(lake.stream, 'x'), 'tweets')
    expect(all).toEqual(expected(['duckdb', 'aws']))
  })

  it('a budget ends the run as partial, kept across runs, and the next window resumes', async () => {
    const lake = await scratchLake()
    const cfg = search({ budget: { requests: 3, per: '1h' } })
    const before = sim.requests.length
    const r1 = await runSource(cfg, 'x', lake)
    expect(r1.partial).toMatch(/request budget of 3 per 1h used up; the run is partial and resumes after/)
    const r2 = await runSource(cfg, 'x', lake) // a restart in the same window may not burst
    expect(r2.partial).toBeDefined()
    expect(sim.requests.length - before).toBe(3)
    const w = (await createStateStore(lake.store).get<{ used: number }>('sources/x/budget'))!
    expect(w.used).toBe(3)
  })
})
