import { cp, mkdir, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { configSchema } from '../src/config/schema.js'
import { createEngine, type Engine, sqlIdent, sqlList, sqlString } from '../src/engine/engine.js'
import { openPipeline } from '../src/pipeline/pipeline.js'
import { registerParquet } from './lake.js'
import { type BenchResult, median, seconds } from './types.js'

/**
 * The example tweet star schema (dim_user, dim_date, fact_tweet, fact_tweet_metrics_daily) built by
 * `weir model` from `count` trusted tweets, against the same compiled SQL run by hand in DuckDB
 * (COPY ... TO parquet per model, over the same trusted files) in the same run; then an incremental
 * build after one more day of tweets, against the full build.
 */
export async function modelsBench(dir: string, count: number): Promise<BenchResult> {
  const lake = join(dir, 'lake')
  const days = 10
  const engine = await createEngine()
  await trustedTweets(engine, lake, count, days)
  const project = join(dir, 'project')
  for (const f of ['models', 'snapshots', 'tests'])
    await cp(join('examples', f), join(project, f), { recursive: true })
  const config = configSchema.parse({ lake })
  const select = ['tag:tweets']

  const weir: number[] = []
  const byHand: number[] = []
  let compiled: { model: string; sql: string }[] = []
  for (let i = 0; i < 3; i++) {
    await rm(join(lake, 'refined'), { recursive: true, force: true })
    await rm(join(lake, '_catalog/tables/refined'), { recursive: true, force: true })
    const p = await openPipeline({ config, file: undefined, dir: project })
    await p.engine()
    const r = await p.models({ select, test: false })
    if (r.models.some((m) => m.action === 'failed')) throw new Error(JSON.stringify(r.models))
    weir.push(r.seconds)
    compiled = await p.compileModels(select)
    await p.close()
    // The same SQL by hand: views over the same files, one COPY per model, in the same order.
    const e = await createEngine()
    await e.run('CREATE SCHEMA trusted; CREATE SCHEMA refined')
    for (const t of ['x_tweets', 'x_users']) {
      const files = await parquetUnder(join(lake, 'trusted/x', t.slice(2)))
      await e.run(
        `CREATE VIEW trusted.${t} AS SELECT * FROM read_parquet(${sqlList(files)}, hive_partitioning = true)`,
      )
    }
    byHand.push(
      await seconds(async () => {
        for (const m of compiled) {
          const partitioned = m.model.startsWith('fact_')
          const out = join(dir, 'by-hand', partitioned ? m.model : `${m.model}.parquet`)
          await mkdir(join(dir, 'by-hand'), { recursive: true })
          await e.run(
            `COPY (${m.sql}\n) TO ${sqlString(out)} (FORMAT parquet, COMPRESSION snappy${partitioned ? ', PARTITION_BY (dt), OVERWRITE_OR_IGNORE' : ''})`,
          )
          await e.run(
            `CREATE OR REPLACE VIEW refined.${sqlIdent(m.model)} AS SELECT * FROM read_parquet('${out}${partitioned ? '/**/*.parquet' : ''}'${partitioned ? ', hive_partitioning = true' : ''})`,
          )
        }
      }),
    )
    await e.close()
    await rm(join(dir, 'by-hand'), { recursive: true, force: true })
  }

  // One more day of tweets (a tenth of the rest): an incremental build reads that day only.
  await trustedTweets(engine, lake, Math.round(count / days), 1, days)
  await engine.close()
  const p = await openPipeline({ config, file: undefined, dir: project })
  await p.engine()
  const inc = await p.models({ select, test: false })
  await p.close()
  const ours = median(weir)
  const base = median(byHand)
  return {
    name: 'models-star-schema',
    unit: 's',
    value: ours,
    baseline: { name: 'the same compiled SQL by hand in DuckDB (COPY per model)', value: base },
    ratio: ours / base,
    notes: `median of 3 interleaved runs; tweet star schema (4 models) from ${count.toLocaleString('en-US')} trusted tweets over ${days} days; then one more day (${Math.round(count / days).toLocaleString('en-US')} tweets): incremental build ${inc.seconds.toFixed(2)} s (${inc.models.map((m) => `${m.model} ${m.action}`).join(', ')})`,
    details: { runs: weir, byHand, incremental: inc.models },
  }
}

/** `count` tweets over `days` days from day `first`, as refine writes them (Parquet by dt=), registered. */
async function trustedTweets(
  engine: Engine,
  lake: string,
  count: number,
  days: number,
  first = 0,
): Promise<void> {
  const out = join(lake, 'trusted/x/tweets')
  await mkdir(out, { recursive: true })
  await engine.run(
    `COPY (
      SELECT CAST(1590000000000000000 + ${first * 1e7} + i AS VARCHAR) AS id,
        'tweet ' || i || ' about #duckdb and data pipelines' AS text,
        CAST(2000000 + i % 5000 AS VARCHAR) AS author_id,
        CAST(1590000000000000000 + i - i % 7 AS VARCHAR) AS conversation_id,
        TIMESTAMP '2026-11-01' + to_days(${first} + i % ${days}) + to_seconds(i % 86400) AS created_at,
        ['en', 'pt', 'es'][1 + i % 3] AS lang,
        i % 500 AS public_metrics_retweet_count, i % 50 AS public_metrics_reply_count,
        i % 1000 AS public_metrics_like_count, i % 20 AS public_metrics_quote_count,
        CAST(TIMESTAMP '2026-11-01' + to_days(${first} + i % ${days}) AS DATE) AS dt
      FROM range(${count}) t(i)
    ) TO ${sqlString(out)} (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (dt), FILENAME_PATTERN 'part-${first}-{i}', OVERWRITE_OR_IGNORE)`,
  )
  const users = join(lake, 'trusted/x/users/dt=2026-11-01')
  await mkdir(users, { recursive: true })
  await engine.run(
    `COPY (SELECT CAST(2000000 + i AS VARCHAR) AS id, 'User ' || i AS name, 'user_' || i AS username,
        TIMESTAMP '2020-01-01' AS created_at, 'about ' || i AS description, i % 9 = 0 AS verified,
        i * 3 AS public_metrics_followers_count, i % 300 AS public_metrics_following_count,
        100 AS public_metrics_tweet_count, 0 AS public_metrics_listed_count
      FROM range(5000) t(i)) TO ${sqlString(join(users, 'part-0-0.parquet'))} (FORMAT parquet, COMPRESSION snappy)`,
  )
  for (const [name, resource] of [
    ['x_tweets', 'tweets'],
    ['x_users', 'users'],
  ] as const) {
    await registerParquet(engine, lake, await parquetUnder(join(lake, 'trusted/x', resource)), {
      zone: 'trusted',
      name,
      source: 'x',
      resource,
      location: `trusted/x/${resource}/`,
      format: 'parquet',
      partitioning: ['dt'],
      primaryKey: ['id'],
    })
  }
}

async function parquetUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true }))
    .filter((f) => f.endsWith('.parquet'))
    .map((f) => join(dir, f))
    .sort()
}
