import { readdir } from 'node:fs/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { createEngine, sqlList } from '../../src/engine/engine.js'
import { createLocalStore } from '../../src/storage/local/local-store.js'
import { demoCounts, weir } from '../helpers/cli.js'
import { keys } from '../helpers/lake.js'
import { s3Env, startS3, tempDir } from '../helpers/services.js'

/** The tables the demo's sources fill: tweets and users (searched and streamed), weather, the movie listing and TMDB. */
const SOURCE_TABLES = [
  'movies_titles',
  'tmdb_find_movies',
  'tmdb_movies',
  'tmdb_reviews',
  'weather_realtime',
  'x_stream_tweets',
  'x_stream_users',
  'x_tweets',
  'x_users',
]

/** Checks what acceptance asks of a demo lake, through the CLI only. */
async function checkLake(lake: string, stdout: string, env: Record<string, string> = {}) {
  const counts = demoCounts(stdout)
  expect(Object.keys(counts).sort()).toEqual(SOURCE_TABLES)
  for (const [table, n] of Object.entries(counts)) {
    expect(n).toBeGreaterThan(0)
    const q = await weir(
      ['query', `select count(*) as n from trusted.${table}`, '--lake', lake, '--format', 'json'],
      env,
    )
    expect(q.stderr).toBe('')
    expect(JSON.parse(q.stdout)).toEqual([{ n }])
  }
  const ls = await weir(['catalog', 'ls', '--lake', lake, '--format', 'json'], env)
  const tables = JSON.parse(ls.stdout) as {
    table: string
    zone: string
    location: string
    columns: { name: string }[]
  }[]
  const refined = [
    'dim_date',
    'dim_location',
    'dim_title',
    'dim_user',
    'fact_review',
    'fact_tweet',
    'fact_tweet_metrics_daily',
    'fact_weather_observation',
    'tweets_served',
    'user_profile_history',
    'user_tweet_counts',
  ]
  expect(tables.map((t) => t.table).sort()).toEqual(
    [
      ...SOURCE_TABLES.flatMap((t) => [`raw.${t}`, `trusted.${t}`]),
      // Lists of objects (hashtags, genres) are child tables linked by the parent's key.
      'trusted.x_tweets__entities_hashtags',
      'trusted.tmdb_movies__genres',
      'trusted.x_stream_tweets__matching_rules',
      // The example models of the three seed scenarios.
      ...refined.map((m) => `refined.${m}`),
    ].sort(),
  )
  // Every example model is queryable, and its data tests passed.
  expect(stdout).toMatch(/^\s+model\s+[\d,]+ records.*\n\s+note: (\d+) of \1 data tests passed$/m)
  for (const m of refined) {
    const q = await weir(
      ['query', `select count(*) as n from refined.${m}`, '--lake', lake, '--format', 'json'],
      env,
    )
    expect(JSON.parse(q.stdout)[0].n, m).toBeGreaterThan(0)
  }
  for (const t of tables) {
    expect(t.zone).toMatch(/^(raw|trusted|refined)$/)
    expect(t.location).toMatch(new RegExp(`^${t.zone}/`))
    expect(t.columns.length).toBeGreaterThan(1)
  }
  const tweets = tables.find((t) => t.table === 'trusted.x_tweets')!
  expect(tweets.columns.map((c) => c.name)).toEqual(
    expect.arrayContaining(['id', 'author_id', 'created_at', 'dt']),
  )
}

describe('weir demo on a local lake', () => {
  it('runs every stage, lands raw NDJSON by date and snappy Parquet by dt=, and the counts match', async () => {
    const lake = await tempDir('weir-demo-')
    const run = await weir(['demo', '--lake', lake])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    for (const stage of ['ingest', 'land', 'refine', 'model', 'query'])
      expect(run.stdout).toMatch(new RegExp(`^\\s+${stage}\\s+[\\d,]+ records`, 'm'))
    expect(run.stdout).toContain('username')
    // Refined tables with the rows their models wrote, not only how they are kept.
    expect(run.stdout).toMatch(/^\s+refined\.dim_user\s+[1-9]\d* \(table\)$/m)
    // Every model builds, the stream's too (no "failed" while the demo says it is done), and a
    // first landing calls nothing late.
    expect(run.stdout).toMatch(/^\s+refined\.tweets_served\s+[1-9]\d* \(table\)$/m)
    expect(run.stdout).not.toMatch(/failed|late records/)
    // The closing tip runs as printed, without the bin on the PATH (npx finds it).
    expect(run.stdout).toMatch(
      /Try: npx weir query "select \* from refined\.fact_tweet_metrics_daily limit 10" --lake /,
    )
    // The models' line counts the bytes their files take, as the other stages' do.
    expect(run.stdout).toMatch(/^\s+model\s+[\d,]+ records\s+[1-9]\d* files\s+[1-9][\d.]* [KMG]?B\s/m)
    await checkLake(lake, run.stdout)

    const store = createLocalStore(lake)
    const raw = (await keys(store, 'raw/')).filter((k) => k.endsWith('.ndjson'))
    expect(raw.length).toBeGreaterThan(0)
    for (const k of raw)
      expect(k).toMatch(
        /^raw\/(x|x_stream|weather|tmdb)\/json\/\w+\/\d{4}\/\d{2}\/\d{2}\/p\d+-\d{9}-\d{9}\.ndjson$/,
      )
    // Iceberg tables: each table's metadata beside its data files.
    const trusted = await keys(store, 'trusted/')
    const parquet = trusted.filter((k) => !k.includes('/metadata/'))
    for (const k of trusted.filter((k) => k.includes('/metadata/')))
      expect(k).toMatch(
        /^trusted\/\w+\/\w+\/metadata\/(v\d+\.metadata\.json|version-hint\.text|[\w-]+\.avro)$/,
      )
    for (const k of parquet) {
      // The movies listing (CSV, no event time) is one unpartitioned file; the rest is by dt=.
      expect(k).toMatch(
        /^trusted\/((x|x_stream|weather|tmdb)\/\w+\/dt=\d{4}-\d{2}-\d{2}|movies\/titles)\/part-\d+-\d+\.parquet$/,
      )
    }
    const engine = await createEngine()
    const meta = await engine.query(
      `select distinct compression from parquet_metadata(${sqlList(parquet.map((k) => `${lake}/${k}`))})`,
    )
    expect(meta.rows).toEqual([{ compression: 'SNAPPY' }])
    await engine.close()

    // Running it again resets the lake it made itself: same counts, nothing doubled.
    const again = await weir(['demo', '--lake', lake])
    expect(again.code).toBe(0)
    expect(demoCounts(again.stdout)).toEqual(demoCounts(run.stdout))
    await checkLake(lake, again.stdout)
  }, 120_000)

  it('refuses a non-empty lake it did not make', async () => {
    const lake = await tempDir('weir-demo-')
    await createLocalStore(lake).put('precious/data.csv', 'a,b\n')
    const run = await weir(['demo', '--lake', lake])
    expect(run.code).toBe(1)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
    expect(run.stderr).toMatch(/is not empty and was not made by `weir demo`/)
  })
})

const s3 = await startS3('weir-demo')
afterAll(async () => s3?.stop())

describe.skipIf(!s3)('weir demo on S3 (s3rver)', () => {
  it('runs the same demo with --lake s3://bucket/prefix and AWS_ENDPOINT_URL', async () => {
    const env = s3Env(s3!)
    const lake = 's3://weir-demo/lakes/demo1'
    const cwd = await tempDir('weir-cwd-')
    const run = await weir(['demo', '--lake', lake], env, cwd)
    expect(await readdir(cwd)).toEqual([]) // the demo's stream for a remote lake lives only for the run
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    await checkLake(lake, run.stdout, env)
    const q = await weir(
      [
        'query',
        "select count(*) as n from trusted.x_tweets where dt >= '2000-01-01'",
        '--lake',
        lake,
        '--format',
        'csv',
      ],
      env,
    )
    expect(q.stdout).toBe(`n\n${demoCounts(run.stdout).x_tweets}\n`)
  })

  it('says which bucket is missing, in one line', async () => {
    const run = await weir(['catalog', 'ls', '--lake', 's3://no-such-bucket/x'], s3Env(s3!))
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(
      /^weir: s3:\/\/no-such-bucket\/x: bucket does not exist; create it or fix the lake URI\n$/,
    )
  })
})
