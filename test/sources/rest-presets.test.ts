import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Simulator, startSimulator } from '../../src/sources/simulator/simulator.js'
import { scratchLake } from '../helpers/lake.js'
import { ids, published, runSource } from '../helpers/rest.js'

const DAY = 86_400_000
let sim: Simulator
const now = Date.now()
beforeAll(async () => {
  sim = await startSimulator({ tweetsPerHour: 120, historyDays: 3, now: () => now })
})
afterAll(async () => sim.close())

/** Runs a preset source against the simulator and returns what was published and the requests it made. */
async function run(source: Record<string, unknown>) {
  const lake = await scratchLake()
  const before = sim.requests.length
  const result = await runSource({ s: { baseUrl: sim.url, ...source } }, 's', lake)
  const records = await published(lake.stream, 's')
  return { result, records, requests: sim.requests.slice(before) }
}

/** The simulator's own answer: indices of tweets that exist now, newest first. */
function tweetIndices(keep: (i: number) => boolean, windowDays: number) {
  const w = sim.world
  const out: number[] = []
  for (let i = w.tweetCount(now) - 1; i >= 0 && w.tweetTime(i) >= now - windowDays * DAY; i--)
    if (keep(i)) out.push(i)
  return out
}

describe('presets against the simulator collect every page', () => {
  it('x.recent_search: every matching tweet of each query and their authors, 100 per page', async () => {
    const { records, requests, result } = await run({
      preset: 'x.recent_search',
      auth: { bearer: 'test-token' },
      params: { query: ['#duckdb', '#aws -is:retweet'] },
    })
    const w = sim.world
    const expected = tweetIndices((i) => ['duckdb', 'aws'].includes(w.tweetTag(i)), 7)
    expect(ids(records, 'tweets')).toEqual(expected.map((i) => w.tweetId(i)).sort())
    expect(new Set(ids(records, 'users'))).toEqual(new Set(expected.map((i) => w.user(w.tweetAuthor(i)).id)))
    const perQuery = ['duckdb', 'aws'].map((t) => tweetIndices((i) => w.tweetTag(i) === t, 7).length)
    expect(requests).toHaveLength(perQuery.reduce((a, n) => a + Math.ceil(n / 100), 0))
    expect(result.partial).toBeUndefined()
  })

  it('x.users_by_username: 100 names per request; unknown names are not records', async () => {
    const names = [
      ...Array.from({ length: 48 }, (_, i) => `user_${i}`),
      'nobody_1',
      ...Array.from({ length: 60 }, (_, i) => `USER_${i % 48}`),
    ]
    const { records, requests } = await run({
      preset: 'x.users_by_username',
      auth: { bearer: 't' },
      params: { usernames: names },
    })
    expect(requests).toHaveLength(2)
    expect(records.filter((r) => r.resource === 'users')).toHaveLength(48 + 60)
    expect(new Set(ids(records, 'users')).size).toBe(48)
  })

  it('x.user_tweets: the whole timeline of each user, paged by pagination_token', async () => {
    const w = sim.world
    const users = [w.user(3).id, w.user(7).id]
    const { records, requests } = await run({
      preset: 'x.user_tweets',
      auth: { bearer: 't' },
      params: { user_id: users },
    })
    const expected = tweetIndices((i) => [3, 7].includes(w.tweetAuthor(i)), 3650)
    expect(ids(records, 'tweets')).toEqual(expected.map((i) => w.tweetId(i)).sort())
    expect(requests.some((r) => r.query.pagination_token)).toBe(true)
  })

  it('x.tweets_lookup: current metrics of known tweets, 100 ids per request', async () => {
    const w = sim.world
    const known = Array.from({ length: 230 }, (_, i) => w.tweetId(i * 3))
    const { records, requests } = await run({
      preset: 'x.tweets_lookup',
      auth: { bearer: 't' },
      params: { ids: [...known, '1590000000000000002'] },
    })
    expect(requests).toHaveLength(3)
    expect(ids(records, 'tweet_metrics')).toEqual([...known].sort())
    expect(records[0]!.data.public_metrics).toBeDefined()
  })

  it('tomorrow.realtime: one reading per location, API key in the query', async () => {
    const { records, requests } = await run({
      preset: 'tomorrow.realtime',
      auth: { apiKey: 'k-123' },
      params: { location: ['toronto', 'lisbon', 'phoenix'] },
    })
    expect(records.map((r) => (r.data.location as { name: string }).name.split(',')[0]).sort()).toEqual([
      'Lisboa',
      'Phoenix',
      'Toronto',
    ])
    expect(requests.every((r) => r.query.apikey === '***')).toBe(true)
  })

  it('tomorrow.forecast: one hourly forecast per location', async () => {
    const { records } = await run({
      preset: 'tomorrow.forecast',
      auth: { apiKey: 'k' },
      params: { location: ['toronto', 'new york'] },
    })
    expect(records).toHaveLength(2)
    expect(((records[0]!.data.timelines as { hourly: unknown[] }).hourly ?? []).length).toBe(24)
  })

  it('openmeteo.forecast: locations as { latitude, longitude }, no key', async () => {
    const { records, requests } = await run({
      preset: 'openmeteo.forecast',
      params: {
        location: [
          { latitude: 43.65, longitude: -79.38 },
          { latitude: 38.72, longitude: -9.14 },
        ],
      },
    })
    expect(records.map((r) => r.data.latitude).sort()).toEqual([38.72, 43.65])
    expect(requests.map((r) => r.query.latitude).sort()).toEqual(['38.72', '43.65'])
  })

  it('tmdb.find_by_imdb: matches for IMDB ids (one in ten has none)', async () => {
    const imdb = Array.from({ length: 30 }, (_, i) => `tt${String(1_000_000 + i * 37).padStart(7, '0')}`)
    const { records, requests } = await run({
      preset: 'tmdb.find_by_imdb',
      auth: { apiKey: 'k' },
      params: { imdb_id: imdb },
    })
    expect(requests).toHaveLength(30)
    const expected = imdb.map((id) => sim.world.tmdbIdForImdb(id)).filter((x) => x !== undefined)
    expect(ids(records, 'find_movies')).toEqual(expected.map(String).sort())
  })

  it('tmdb.movie_details and tmdb.movie_credits: one document per movie, bearer auth works too', async () => {
    const details = await run({
      preset: 'tmdb.movie_details',
      auth: { bearer: 'v4-token' },
      params: { movie_id: [10001, 10002] },
    })
    expect(ids(details.records, 'movies')).toEqual(['10001', '10002'])
    const credits = await run({
      preset: 'tmdb.movie_credits',
      auth: { apiKey: 'k' },
      params: { movie_id: [10003] },
    })
    expect(credits.records[0]!.data.cast).toHaveLength(3 + (10003 % 5))
  })

  it('tmdb.movie_reviews: every page of reviews', async () => {
    const movies = [10001, 10002, 10003, 10004, 10005, 10006]
    const { records, requests } = await run({
      preset: 'tmdb.movie_reviews',
      auth: { apiKey: 'k' },
      params: { movie_id: movies },
    })
    const counts = movies.map((m) => sim.world.reviewCount(m))
    expect(records).toHaveLength(counts.reduce((a, b) => a + b, 0))
    expect(new Set(ids(records, 'reviews')).size).toBe(records.length)
    expect(requests).toHaveLength(counts.reduce((a, n) => a + Math.max(1, Math.ceil(n / 20)), 0))
    expect(counts.some((n) => n > 20)).toBe(true) // at least one movie needs several pages
  })
})
