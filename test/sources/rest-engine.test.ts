import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { GENERIC_TOTAL } from '../../src/sources/simulator/generic-api.js'
import { type Simulator, startSimulator } from '../../src/sources/simulator/simulator.js'
import { createStateStore } from '../../src/state/state.js'
import { scratchLake } from '../helpers/lake.js'
import { ids, published, runSource } from '../helpers/rest.js'

let sim: Simulator
const now = Date.now()
beforeAll(async () => {
  sim = await startSimulator({ tweetsPerHour: 60, historyDays: 2, now: () => now })
})
afterAll(async () => sim.close())

const all = Array.from({ length: GENERIC_TOTAL }, (_, i) => String(i)).sort()

async function collect(source: Record<string, unknown>) {
  const lake = await scratchLake()
  const before = sim.requests.length
  const result = await runSource({ s: { kind: 'rest', baseUrl: sim.url, ...source } }, 's', lake)
  return { result, records: await published(lake.stream, 's'), requests: sim.requests.slice(before), lake }
}

describe('REST engine paginators', () => {
  it('offset/limit with a total', async () => {
    const { records, requests } = await collect({
      endpoints: {
        items: {
          path: '/generic/offset',
          select: { items: 'items' },
          paginator: { type: 'offset', limit: 100, totalPath: 'total' },
        },
      },
    })
    expect(ids(records, 'items')).toEqual(all)
    expect(requests).toHaveLength(Math.ceil(GENERIC_TOTAL / 100))
  })

  it('offset/limit without a total stops on a short page', async () => {
    const { records } = await collect({
      endpoints: {
        items: {
          path: '/generic/offset',
          select: { items: 'items' },
          paginator: { type: 'offset', limit: 70 },
        },
      },
    })
    expect(ids(records, 'items')).toEqual(all)
  })

  it('a cursor in the body', async () => {
    const { records } = await collect({
      endpoints: {
        items: {
          path: '/generic/cursor',
          select: { items: 'items' },
          paginator: { type: 'cursor', path: 'next_cursor' },
        },
      },
    })
    expect(ids(records, 'items')).toEqual(all)
  })

  it('Link headers with rel="next", relative references included', async () => {
    const { records, requests } = await collect({
      endpoints: { items: { path: '/generic/linked', paginator: { type: 'link' } } },
    })
    expect(ids(records, 'items')).toEqual(all) // the body is the array: "$" by default
    expect(requests.map((r) => r.query.page ?? '1')).toEqual([
      '1',
      ...Array.from({ length: 10 }, (_, i) => String(i + 2)),
    ])
  })

  it("sends the source's headers and each endpoint's own", async () => {
    const { records } = await collect({
      headers: { 'x-client': 'weir', 'x-shared': 'source' },
      endpoints: {
        a: { path: '/generic/headers', headers: { 'x-endpoint': 'a', 'x-shared': 'endpoint' } },
        b: { path: '/generic/headers' },
      },
    })
    expect(records.map((r) => [r.resource, r.data.headers])).toEqual([
      ['a', { 'x-client': 'weir', 'x-shared': 'endpoint', 'x-endpoint': 'a' }],
      ['b', { 'x-client': 'weir', 'x-shared': 'source' }],
    ])
  })

  it('maxPages and maxRecords bound a run', async () => {
    const ep = {
      path: '/generic/cursor',
      select: { items: 'items' },
      paginator: { type: 'cursor', path: 'next_cursor' },
    }
    expect((await collect({ endpoints: { items: ep }, maxPages: 3 })).records).toHaveLength(150)
    expect((await collect({ endpoints: { items: ep }, maxRecords: 120 })).records).toHaveLength(150) // whole pages
  })
})

describe('time cursors, backfill windows and OAuth2', () => {
  const w = () => sim.world
  it('a time cursor with an initial value, an end for a backfill, and a lag', async () => {
    const start = new Date(now - 30 * 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z')
    const end = new Date(now - 6 * 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z')
    const cfg = {
      kind: 'rest',
      baseUrl: sim.url,
      auth: { bearer: 't' },
      endpoints: {
        search: {
          preset: 'x.recent_search',
          params: { query: '#duckdb' },
          incremental: {
            cursorPath: 'created_at',
            param: 'start_time',
            type: 'time',
            initial: start,
            endParam: 'end_time',
            end,
            lag: '10m',
            resource: 'tweets',
          },
        },
      },
    }
    const lake = await scratchLake()
    const before = sim.requests.length
    await runSource({ s: cfg }, 's', lake)
    const asked = sim.requests.slice(before)
    expect(asked[0]!.query.start_time).toBe(
      new Date(Date.parse(start) - 600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    )
    expect(asked[0]!.query.end_time).toBe(end)
    const got = ids(await published(lake.stream, 's', 'a'), 'tweets')
    const expected: string[] = []
    for (let i = w().tweetCount(now) - 1; i >= 0; i--) {
      const t = w().tweetTime(i)
      if (t >= Date.parse(start) - 600_000 && t < Date.parse(end) && w().tweetTag(i) === 'duckdb')
        expected.push(w().tweetId(i))
    }
    expect(got).toEqual(expected.sort())
    const saved = await createStateStore(lake.store).get<{
      cursor: { partitions: Record<string, { value: string }> }
    }>('sources/s')
    const value = Object.values(saved!.cursor.partitions)[0]!.value
    expect(Date.parse(value)).toBeLessThan(Date.parse(end))
    // The next run starts from the newest time seen, minus the lag.
    const next = sim.requests.length
    await runSource({ s: cfg }, 's', lake)
    expect(sim.requests[next]!.query.start_time).toBe(
      new Date(Date.parse(value) - 600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    )
  })

  it('OAuth2 client credentials: one token request, then bearer calls; the secret never logged', async () => {
    const { records, requests } = await collect({
      preset: 'x.users_by_username',
      auth: {
        oauth2: { tokenUrl: '/oauth2/token', clientId: 'weir-client', clientSecret: 'shh-very-secret' },
      },
      params: { usernames: ['user_1', 'user_2'] },
    })
    expect(ids(records, 'users')).toEqual([w().user(1).id, w().user(2).id].sort())
    expect(requests.map((r) => r.path)).toEqual(['/oauth2/token', '/2/users/by'])
    expect(JSON.stringify(sim.requests)).not.toContain('shh-very-secret')
  })

  it('publishes each record with its envelope', async () => {
    const lake = await scratchLake()
    const source = {
      kind: 'rest',
      baseUrl: sim.url,
      preset: 'x.recent_search',
      auth: { bearer: 't' },
      params: { query: '#aws' },
      maxPages: 1,
    }
    await runSource({ s: source }, 's', lake, undefined, { tweets: 'created_at' })
    const records = await published(lake.stream, 's')
    const h = records[0]!.headers
    expect(h).toMatchObject({
      source: 's',
      resource: 'tweets',
      et: new Date(String(records[0]!.data.created_at)).toISOString(),
    })
    expect(records.find((r) => r.resource === 'users')!.headers.et).toBeUndefined() // no event time configured
    expect(h.run).toMatch(/^\d{8}T\d{6}-[0-9a-f]{6}$/)
    expect(Date.parse(h.ingested!)).toBeGreaterThan(now - 60_000)
    expect(h.fp).toMatch(/^[0-9a-f]{16}$/)
    // Same structure, same fingerprint; users have another.
    const tweets = records.filter((r) => r.resource === 'tweets')
    expect(new Set(tweets.map((r) => r.headers.fp)).size).toBe(1)
    expect(records.find((r) => r.resource === 'users')!.headers.fp).not.toBe(h.fp)
  })
})

describe('a REST source whose host refuses connections', () => {
  it('fails at once, naming the host and the URL sent with its credentials masked', async () => {
    const { freePort } = await import('../helpers/services.js')
    const port = await freePort() // nothing listens there
    const lake = await scratchLake()
    // At once: one connection attempt, no retries waited out (counted, not timed).
    const fetches = vi.spyOn(globalThis, 'fetch')
    const err = await runSource(
      {
        s: {
          kind: 'rest',
          baseUrl: `http://127.0.0.1:${port}/api`,
          auth: { apiKey: 'very-secret-key-123', name: 'api_key', in: 'query' },
          endpoints: { items: { path: '/items', params: { q: 'x' } } },
        },
      },
      's',
      lake,
    ).catch((e: unknown) => e as Error)
    expect(fetches).toHaveBeenCalledTimes(1)
    fetches.mockRestore()
    expect((err as Error).message).toBe(
      `source s: GET /items: cannot connect to 127.0.0.1:${port} (connection refused) at http://127.0.0.1:${port}/api/items?q=x&api_key=***; check baseUrl and that the server is up`,
    )
  })
})

describe('path parameters', () => {
  it('a value with slashes fills several segments, each encoded (the REST recipe: GitHub /repos/{repo}/issues)', async () => {
    const { fillPath } = await import('../../src/sources/rest/plan.js')
    expect(fillPath('/repos/{repo}/issues', { repo: 'duckdb/duckdb', state: 'all' })).toEqual({
      path: '/repos/duckdb/duckdb/issues',
      query: { state: 'all' },
    })
    expect(fillPath('/movie/{id}', { id: 'a b?c' }).path).toBe('/movie/a%20b%3Fc')
  })

  it('a refused request names the URL it sent, not only the path template, with credentials masked', async () => {
    const { startSimulator } = await import('../../src/sources/simulator/simulator.js')
    const s = await startSimulator()
    try {
      const err = await runSource(
        {
          g: {
            kind: 'rest',
            baseUrl: s.url,
            auth: { apiKey: 'secret-key-0042', name: 'api_key', in: 'query' },
            endpoints: { issues: { path: '/repos/{repo}/issues', params: { repo: 'duckdb/duckdb' } } },
          },
        },
        'g',
        await scratchLake(),
      ).catch((e: unknown) => e as Error)
      expect((err as Error).message).toContain(`GET /repos/{repo}/issues was refused: HTTP 404`)
      expect((err as Error).message).toContain(`(sent: ${s.url}/repos/duckdb/duckdb/issues?api_key=***)`)
      expect((err as Error).message).not.toContain('secret-key-0042')
    } finally {
      await s.close()
    }
  })
})
