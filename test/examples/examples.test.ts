import { spawn } from 'node:child_process'
import { cp, readdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSimulator } from '../../src/sources/simulator/simulator.js'
import { startReceiver, startSmtp } from '../alerts/helpers.js'
import { weir } from '../helpers/cli.js'
import { serviceUp, tempDir } from '../helpers/services.js'

const PG = process.env.WEIR_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test'
const pgUp = await serviceUp('PostgreSQL', PG, 5432, 'the PostgreSQL part of x-tweets-lake')

// No credentials of any kind: every API is the simulator.
const NO_KEYS = {
  X_BEARER_TOKEN: '',
  TOMORROW_API_KEY: '',
  TMDB_API_KEY: '',
  WEIR_LAKE: '',
  DATABASE_URL: '',
}

/** The examples folder copied whole (the examples share its models), and one example's folder in it. */
async function example(name: string): Promise<string> {
  const root = await tempDir('weir-example-')
  await cp('examples', join(root, 'examples'), { recursive: true })
  return join(root, 'examples', name)
}
const json = async (dir: string, sql: string, env = {}) => {
  const r = await weir(['query', sql, '-f', 'json'], { ...NO_KEYS, ...env }, dir)
  expect(r.stderr, sql).toBe('')
  return JSON.parse(r.stdout) as Record<string, number | string>[]
}

describe('examples/x-tweets-lake', () => {
  it('runs once on the simulator: trusted tweets and users, the star schema, PostgreSQL, and tweets served by id and author', async () => {
    const dir = await example('x-tweets-lake')
    const schema = `weir_example_${process.pid}`
    const env = { ...NO_KEYS, ...(pgUp ? { DATABASE_URL: PG, WEIR_PG_SCHEMA: schema } : {}) }
    const run = await weir(['run', '--once'], env, dir)
    expect(run.code, run.stdout + run.stderr).toBe(0)
    const [t] = await json(dir, 'select count(*) as n, count(distinct id) as ids from trusted.x_tweets')
    expect(Number(t!.n)).toBeGreaterThan(100)
    expect((await json(dir, 'select count(*) as n from trusted.x_users'))[0]!.n).toBeGreaterThan(0)
    expect((await json(dir, 'select count(*) as n from trusted.x_tweet_metrics'))[0]!.n).toBeGreaterThan(0)
    expect((await json(dir, 'select count(*) as n from refined.fact_tweet'))[0]!.n).toBe(t!.ids)
    expect((await json(dir, 'select count(*) as n from refined.dim_user'))[0]!.n).toBeGreaterThan(0)
    if (pgUp) {
      const db = new pg.Client({ connectionString: PG })
      await db.connect()
      const { rows } = await db.query(`select count(*)::int as n from "${schema}".fact_tweet`)
      expect(rows[0].n).toBe(t!.ids)
      await db.query(`drop schema "${schema}" cascade`)
      await db.end()
    }
    // Seed 004: the followed accounts' profiles and their timelines; the metrics of the lake's
    // tweets are asked for from the second run on (the first has nothing in the lake yet).
    expect((await json(dir, 'select count(*) as n from trusted.x_profiles_users'))[0]!.n).toBe(5)
    expect((await json(dir, 'select count(*) as n from trusted.x_timelines_tweets'))[0]!.n).toBeGreaterThan(0)
    const again = await weir(['run', '--once'], { ...env, DATABASE_URL: '' }, dir)
    expect(again.code, again.stdout + again.stderr).toBe(0)
    const [m] = await json(
      dir,
      `select count(*) as n, count(*) filter (where id not in (select id from trusted.x_tweets union select id from trusted.x_timelines_tweets)) as strays
       from trusted.x_metrics_tweet_metrics`,
    )
    expect(Number(m!.n)).toBeGreaterThan(100)
    expect(Number(m!.strays)).toBe(0)
    // Served: the sink fills the store from the stream, then the API answers by id and by author.
    const server = spawn(process.execPath, [resolve('bin/weir.js'), 'serve', '--port', '0'], {
      cwd: dir,
      env: { ...process.env, ...env },
    })
    const url = await new Promise<string>((done, fail) => {
      let err = ''
      server.stderr.on('data', (d) => {
        err += d
        const m = /weir serve: (http:\/\/\S+) /.exec(err)
        if (m) done(m[1]!)
      })
      server.once('exit', () => fail(new Error(err)))
    })
    try {
      const [one] = await json(dir, 'select id, author_id from trusted.x_tweets limit 1')
      let byId: Response | undefined
      for (let i = 0; i < 50 && byId?.status !== 200; i++) {
        byId = await fetch(`${url}/v1/tweets/${one!.id}`)
        if (byId.status !== 200) await new Promise((r) => setTimeout(r, 200))
      }
      expect(byId!.status).toBe(200)
      const byAuthor = (await (await fetch(`${url}/v1/tweets?author_id=${one!.author_id}`)).json()) as {
        items: { author_id: string }[]
      }
      expect(byAuthor.items.length).toBeGreaterThan(0)
      expect(byAuthor.items.every((x) => x.author_id === one!.author_id)).toBe(true)
    } finally {
      server.kill('SIGTERM')
    }
    const ddl = await weir(
      ['catalog', 'ddl', 'trusted.x_tweets', '--dialect', 'athena', '--location', 's3://bucket/lake'],
      NO_KEYS,
      dir,
    )
    // An Iceberg table (the default): Athena reads it through Glue, kept current by sync-glue.
    expect(ddl.stdout).toContain(
      '-- trusted.x_tweets is an Iceberg table: Athena reads it through the Glue Data Catalog.',
    )
  }, 120_000)
})

describe('examples/x-stream-serving', () => {
  it("seed 003: the filtered stream into the lake, one served row per tweet with the author's tweets that day, per-user counts equal to SQL over trusted", async () => {
    const dir = await example('x-stream-serving')
    const env = { ...NO_KEYS, X_STREAM_RUN_FOR: '4s' }
    const run = await weir(['run', '--once'], env, dir)
    expect(run.code, run.stdout + run.stderr).toBe(0)
    const [t] = await json(
      dir,
      'select count(*) as n, count(distinct author_id) as users from trusted.x_stream_tweets',
    )
    expect(Number(t!.n)).toBeGreaterThan(5)
    // One served row per tweet; the per-period count is the author's tweets that day.
    const [m] = await json(
      dir,
      `select count(*) as n, count(*) filter (where s.user_tweets_in_period <> (
         select count(*) from trusted.x_stream_tweets t where t.author_id = s.user_id and cast(t.created_at as date) = s.period)) as wrong
       from refined.tweets_served s`,
    )
    expect(m).toEqual({ n: t!.n, wrong: 0 })
    const server = spawn(process.execPath, [resolve('bin/weir.js'), 'serve', '--port', '0'], {
      cwd: dir,
      env: { ...process.env, ...env },
    })
    try {
      const url = await served(server)
      const counts = await json(
        dir,
        'select author_id as user_id, count(*) as n from trusted.x_stream_tweets where created_at > now() - interval 24 hours group by 1',
      )
      for (const c of counts) {
        const item = await poll(`${url}/v1/user_counts/${c.user_id}`)
        expect(Number(item.tweets_24h), String(c.user_id)).toBe(Number(c.n))
      }
      const [one] = await json(dir, 'select hash_line, user_id from refined.tweets_served limit 1')
      const row = await poll(`${url}/v1/tweets/${one!.hash_line}`)
      expect(row.user_id).toBe(one!.user_id)
      // Read-only, as the seed's API was.
      expect(
        (await fetch(`${url}/v1/tweets/${one!.hash_line}`, { method: 'DELETE' })).status,
      ).toBeGreaterThanOrEqual(404)
    } finally {
      server.kill('SIGTERM')
    }
  }, 120_000)
})

/** The URL `weir serve` printed, once it listens. */
function served(server: ReturnType<typeof spawn>): Promise<string> {
  return new Promise<string>((done, fail) => {
    let err = ''
    server.stderr!.on('data', (d) => {
      err += d
      const m = /weir serve: (http:\/\/\S+) /.exec(err)
      if (m) done(m[1]!)
    })
    server.once('exit', () => fail(new Error(err)))
  })
}

/** A served item, once the server has it (model tables are synced as the server starts). */
async function poll(url: string): Promise<Record<string, unknown>> {
  for (let i = 0; ; i++) {
    const res = await fetch(url)
    if (res.status === 200) return (await res.json()) as Record<string, unknown>
    if (i >= 50) throw new Error(`${url}: HTTP ${res.status}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

describe('examples/weather-alerts', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>
  let twilio: Awaited<ReturnType<typeof startReceiver>>
  beforeAll(async () => {
    smtp = await startSmtp()
    twilio = await startReceiver(() => 201, '{"sid":"SM1"}')
  })
  afterAll(async () => {
    await smtp.close()
    await twilio.close()
  })

  it('runs once on the simulator: readings by hour, a threshold crossed pages by email and SMS', async () => {
    const dir = await example('weather-alerts')
    const env = {
      ...NO_KEYS,
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      TWILIO_URL: twilio.url,
      HEAT_C: '-100', // every city is "hot": each one fires
      ALERTS_TZ: 'UTC',
      QUIET_FROM: '00:00',
      QUIET_TO: '00:00', // an empty quiet window: deliver now
    }
    const run = await weir(['run', '--once'], env, dir)
    expect(run.code, run.stdout + run.stderr).toBe(0)
    const raw = (await readdir(join(dir, 'lake/raw/weather/json/realtime'), { recursive: true })).filter(
      (f) => f.endsWith('.ndjson'),
    )
    expect(raw.length).toBeGreaterThan(0)
    for (const f of raw) expect(f).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\d{2}\/[^/]+\.ndjson$/) // by the hour
    expect((await json(dir, 'select count(*) as n from trusted.weather_realtime', env))[0]!.n).toBe(5)
    expect((await json(dir, 'select count(*) as n from refined.fact_weather_observation', env))[0]!.n).toBe(5)
    // The five cities fired at once: one message per channel.
    const mail = smtp.mails.at(-1)!
    expect(mail.subject).toMatch(/^5 alerts: heat \(.*\) firing/)
    expect(twilio.requests).toHaveLength(1)
    expect(Object.fromEntries(new URLSearchParams(twilio.requests[0]!.body)).Body).toMatch(/^5 alerts: heat/)
    expect((await json(dir, "select count(*) as n from weir.alerts where outcome = 'sent'", env))[0]!.n).toBe(
      10,
    )
  }, 120_000)
})

describe('examples/movies-enrichment', () => {
  it('runs once on the simulator: CSVs as they are, TMDB at most 100 records a file, Parquet, the joining model', async () => {
    const dir = await example('movies-enrichment')
    // TMDB is a simulator of this test's, so its request log shows which methods were asked.
    const tmdb = await startSimulator()
    const run = await weir(
      ['run', '--once'],
      { ...NO_KEYS, TMDB_API_KEY: 'tmdb-test-key', TMDB_API_URL: tmdb.url },
      dir,
    ).finally(() => tmdb.close())
    expect(run.code, run.stdout + run.stderr).toBe(0)
    const method = (path: string) =>
      path.replace(/^\/3\/find\/.*/, 'find').replace(/^\/3\/movie\/\d+/, 'movie') || path
    expect(
      [...new Set(tmdb.requests.filter((r) => r.status === 200).map((r) => method(r.path)))].sort(),
    ).toEqual(['find', 'movie', 'movie/credits', 'movie/reviews'])
    const csvRows = (await readFile(join(dir, 'data/movies.csv'), 'utf8')).trim().split('\n').length - 1
    expect((await json(dir, 'select count(*) as n from trusted.movies_titles'))[0]!.n).toBe(csvRows)
    expect((await json(dir, 'select count(*) as n from trusted.series_titles'))[0]!.n).toBeGreaterThan(0)
    const tmdbFiles = (await readdir(join(dir, 'lake/raw/tmdb'), { recursive: true })).filter((f) =>
      f.endsWith('.ndjson'),
    )
    for (const f of tmdbFiles) {
      const lines = (await readFile(join(dir, 'lake/raw/tmdb', f), 'utf8')).trim().split('\n').length
      expect(lines, f).toBeLessThanOrEqual(100)
    }
    const [titles] = await json(
      dir,
      'select count(*) as n, count(tmdb_id) as enriched from refined.dim_title',
    )
    expect(titles!.n).toBe(
      (await json(dir, 'select count(distinct id) as n from trusted.movies_titles'))[0]!.n,
    )
    expect(Number(titles!.enriched)).toBeGreaterThan(0)
    expect((await json(dir, 'select count(*) as n from refined.fact_review'))[0]!.n).toBeGreaterThan(0)
    // Four TMDB methods, each a raw table of its own: find, details, credits, reviews.
    expect((await readdir(join(dir, 'lake/raw/tmdb/json'))).sort()).toEqual([
      'credits',
      'find_movies',
      'movies',
      'reviews',
    ])
    // The CSVs as the seed lays them out: Raw/Local/CSV/Movies/yyyy/mm/dd/movies.csv.
    const csvs = (await readdir(join(dir, 'lake/Raw/Local/CSV'), { recursive: true })).filter((f) =>
      f.endsWith('.csv'),
    )
    expect(csvs.map((f) => f.replace(/\d{4}\/\d{2}\/\d{2}/, 'yyyy/mm/dd')).sort()).toEqual([
      'Movies/yyyy/mm/dd/movies.csv',
      'Series/yyyy/mm/dd/series.csv',
    ])
    // The dashboard's story (what sells, what critics say, how the ratings differ): each of its
    // queries has rows to draw on this example's lake.
    const md = await readFile('examples/dashboards/movies.md', 'utf8')
    const queries = [...md.matchAll(/```sql (\w+)\n([\s\S]*?)```/g)]
    expect(queries.map((q) => q[1])).toEqual(['sells', 'return', 'reviewed', 'gap', 'ratings'])
    for (const [, name, sql] of queries) {
      const rows = await json(dir, sql!)
      expect(rows.length, name).toBeGreaterThan(0)
      expect(
        Object.values(rows[0]!).some((v) => v === null),
        name,
      ).toBe(false)
    }
  }, 120_000)
})
