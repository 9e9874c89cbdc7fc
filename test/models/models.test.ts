import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { icebergRead } from 'icebird'
import { describe, expect, it } from 'vitest'
import { getTable, tableFiles } from '../../src/catalog/catalog.js'
import { uriOf } from '../../src/catalog/iceberg/metadata.js'
import { weir } from '../helpers/cli.js'
import { fetchLocalFiles } from '../helpers/file-fetch.js'
import { modelProject, tweet, user } from './helpers.js'

const tweets = (ids: number[], day: number, likes?: (i: number) => number) =>
  ids.map((i) => ({ resource: 'tweets', data: tweet(i, day, likes?.(i)) }))
const users = (n: number) => Array.from({ length: n }, (_, i) => ({ resource: 'users', data: user(i) }))
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

describe('weir model', () => {
  it('a model whose SQL file is gone is dropped with its files on the next whole build; a selection drops nothing', async () => {
    const p = await modelProject()
    await p.load([...users(5), ...tweets(range(0, 20), 20)])
    const pipe = await p.pipeline()
    try {
      await p.write(
        'models/scratch/old_counts.sql',
        "{{ config(materialized='table') }}\nselect lang, count(*) as n from {{ source('x', 'tweets') }} group by lang\n",
      )
      await pipe.models({ select: ['tag:tweets', 'old_counts'] })
      expect(await getTable(pipe.store, 'refined', 'old_counts')).toBeDefined()
      await rm(join(p.dir, 'models', 'scratch', 'old_counts.sql'))
      const selected = await pipe.models({ select: ['fact_tweet'] })
      expect(selected.dropped).toBeUndefined()
      expect(await getTable(pipe.store, 'refined', 'old_counts')).toBeDefined()
      const whole = await pipe.models()
      expect(whole.dropped).toEqual(['old_counts'])
      expect(await getTable(pipe.store, 'refined', 'old_counts')).toBeUndefined()
      const left: string[] = []
      for await (const o of pipe.store.list('refined/old_counts/')) left.push(o.key)
      expect(left).toEqual([])
      await expect(pipe.query('select * from refined.old_counts')).rejects.toThrow(/old_counts/)
      expect(await getTable(pipe.store, 'refined', 'dim_user')).toBeDefined()
    } finally {
      await pipe.close()
      await p.close()
    }
  })

  it('builds the example star schema and runs its tests; a second run changes nothing', async () => {
    const p = await modelProject()
    await p.load([...users(5), ...tweets(range(0, 30), 20), ...tweets(range(30, 50), 21)])
    const pipe = await p.pipeline()
    try {
      const r = await pipe.models({ select: ['tag:tweets'] })
      expect(Object.fromEntries(r.models.map((m) => [m.model, [m.action, m.rows]]))).toEqual({
        dim_user: ['created', 5],
        dim_date: ['created', 2],
        fact_tweet: ['created', 50],
        fact_tweet_metrics_daily: ['created', 10], // 2 days × 5 authors
      })
      expect(r.tests.filter((t) => t.status !== 'pass')).toEqual([])
      expect(r.tests.length).toBeGreaterThanOrEqual(10)
      const q = await pipe.query(
        'select sum(tweets) as tweets, sum(likes) as likes from refined.fact_tweet_metrics_daily',
      )
      expect(q.rows).toEqual([{ tweets: 50, likes: range(0, 50).reduce((a, b) => a + b, 0) }])
      // Docs from the YAML reach the catalog.
      const dim = await getTable(pipe.store, 'refined', 'dim_user')
      expect(dim?.description).toBe('One row per X user, with the profile as last collected.')
      expect(dim?.columns.find((c) => c.name === 'user_id')?.description).toBe(
        'The X user id (exact, as text).',
      )
      const again = await pipe.models({ select: ['tag:tweets'], test: false })
      expect(again.models.map((m) => m.action)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged'])
    } finally {
      await pipe.close()
      await p.close()
    }
  })

  it('an incremental run reads only the changed days, changes only affected rows, and equals a full rebuild', async () => {
    const p = await modelProject()
    // The same models, built whole every time, to compare with.
    for (const name of ['fact_tweet', 'fact_tweet_metrics_daily']) {
      const sql = await readFile(join(p.dir, 'models/tweets', `${name}.sql`), 'utf8')
      await p.write(
        `models/tweets/${name}_full.sql`,
        sql.replace(/\{\{ config\([^)]*\) \}\}/, "{{ config(materialized='table') }}"),
      )
    }
    await p.load([
      ...users(5),
      ...tweets(range(0, 40), 19),
      ...tweets(range(40, 80), 20),
      ...tweets(range(80, 100), 21),
    ])
    const pipe = await p.pipeline()
    try {
      await pipe.models({ test: false })
      const filesOf = async (name: string) =>
        (await tableFiles(pipe.store, (await getTable(pipe.store, 'refined', name))!)) ?? []
      const day19 = (await filesOf('fact_tweet')).filter((k) => k.includes('dt=2026-11-19'))
      expect(day19.length).toBeGreaterThan(0)
      // Metrics refreshed for ten tweets of the 20th (the seed refreshes every 2 hours), and a new day.
      await p.load([...tweets(range(40, 50), 20, (i) => i + 1000), ...tweets(range(100, 110), 22)])
      const r = await pipe.models({ test: false })
      const byName = Object.fromEntries(r.models.map((m) => [m.model, m]))
      expect(byName.fact_tweet).toMatchObject({ action: 'incremental', rows: 50 }) // the 20th (40) and the 22nd (10)
      expect(byName.fact_tweet_metrics_daily).toMatchObject({ action: 'incremental', rows: 10 }) // 2 days × 5 authors
      // The 19th was neither read nor rewritten.
      expect((await filesOf('fact_tweet')).filter((k) => k.includes('dt=2026-11-19'))).toEqual(day19)
      for (const name of ['fact_tweet', 'fact_tweet_metrics_daily']) {
        // By name: a partitioned table reads its partition column last.
        const cols = (await pipe.query(`select * from refined.${name}_full limit 0`)).columns
          .map((c) => `"${c.name}"`)
          .join(', ')
        const diff = await pipe.query(
          `select (select count(*) from (select ${cols} from refined.${name} except all select ${cols} from refined.${name}_full)) as extra,
                  (select count(*) from (select ${cols} from refined.${name}_full except all select ${cols} from refined.${name})) as missing`,
        )
        expect(diff.rows[0], name).toMatchObject({ extra: 0, missing: 0 })
      }
      const likes = await pipe.query(
        "select likes from refined.fact_tweet where tweet_id = '1590000000000000045'",
      )
      expect(likes.rows).toEqual([{ likes: 1045 }])
      // The models' tables are Iceberg tables: an independent reader gets what Weir reads.
      for (const name of ['fact_tweet', 'fact_tweet_metrics_daily']) {
        const t = (await getTable(pipe.store, 'refined', name))!
        expect(t.iceberg && t.files === undefined, name).toBe(true)
        const restore = fetchLocalFiles()
        try {
          const read = await icebergRead({ tableUrl: uriOf(pipe.store, `refined/${name}`) })
          const weirRows = (await pipe.query(`select * from refined.${name}`)).rows
          expect(read.length, name).toBe(weirRows.length)
          if (name === 'fact_tweet')
            expect(read.map((r) => String((r as { tweet_id: unknown }).tweet_id)).sort()).toEqual(
              weirRows.map((r) => String(r.tweet_id)).sort(),
            )
        } finally {
          restore()
        }
      }
    } finally {
      await pipe.close()
      await p.close()
    }
  })

  it('an incremental model merged by unique_key keeps one row per key, however often its input repeats one', async () => {
    const p = await modelProject({ examples: false })
    // Five authors, many tweets each: the key comes many times in every build's input.
    await p.write(
      'models/by_author.sql',
      "{{ config(materialized='incremental', unique_key='author_id') }}\nselect author_id, lang from {{ source('x', 'tweets') }}",
    )
    await p.load(tweets(range(0, 20), 20))
    const pipe = await p.pipeline()
    try {
      const count = async () =>
        (await pipe.query('select count(*) as n, count(distinct author_id) as k from refined.by_author'))
          .rows[0]
      await pipe.models({ test: false })
      expect(await count()).toEqual({ n: 5, k: 5 })
      await p.load(tweets(range(20, 40), 21))
      expect((await pipe.models({ test: false })).models[0]).toMatchObject({ action: 'incremental' })
      expect(await count()).toEqual({ n: 5, k: 5 })
    } finally {
      await pipe.close()
      await p.close()
    }
  })

  it('an additive change of the output columns rebuilds an incremental model, with a note', async () => {
    const p = await modelProject()
    await p.load([...users(2), ...tweets(range(0, 10), 20)])
    const pipe = await p.pipeline()
    try {
      await pipe.models({ select: ['fact_tweet'], test: false })
      const path = join(p.dir, 'models/tweets/fact_tweet.sql')
      await p.write(
        'models/tweets/fact_tweet.sql',
        (await readFile(path, 'utf8')).replace('  lang,', '  lang,\n  text,'),
      )
      await p.load(tweets([10], 21))
      const [r] = (await pipe.models({ select: ['fact_tweet'], test: false })).models
      expect(r).toMatchObject({ action: 'rebuilt', rows: 11, note: 'rebuilt: the columns changed (+text)' })
    } finally {
      await pipe.close()
      await p.close()
    }
  })

  it('a snapshot over three daily profile loads keeps each version with valid_from and valid_to', async () => {
    const p = await modelProject()
    const pipe = await p.pipeline()
    try {
      const day = (d: number) => new Date(`2026-11-${d}T06:00:00Z`)
      await p.load([
        { resource: 'users', data: user(1) },
        { resource: 'users', data: user(2) },
      ])
      await pipe.models({ select: ['user_profile_history'], now: day(20), test: false })
      await p.load([
        { resource: 'users', data: user(1, 'now a data engineer') },
        { resource: 'users', data: user(2) },
      ])
      await pipe.models({ select: ['user_profile_history'], now: day(21), test: false })
      await p.load([
        { resource: 'users', data: user(1, 'now a data engineer') },
        { resource: 'users', data: user(3) },
      ])
      const [third] = (await pipe.models({ select: ['user_profile_history'], now: day(22), test: false }))
        .models
      expect(third).toMatchObject({ action: 'incremental', rows: 1 }) // user 3 is new; nothing else changed
      const rows = await pipe.query(
        `select user_id, description, strftime(valid_from, '%d') as valid_from, strftime(valid_to, '%d') as valid_to
         from refined.user_profile_history order by user_id, valid_from`,
      )
      expect(rows.rows).toEqual([
        { user_id: '101', description: 'about 1', valid_from: '20', valid_to: '21' },
        { user_id: '101', description: 'now a data engineer', valid_from: '21', valid_to: null },
        { user_id: '102', description: 'about 2', valid_from: '20', valid_to: null },
        { user_id: '103', description: 'about 3', valid_from: '22', valid_to: null },
      ])
    } finally {
      await pipe.close()
      await p.close()
    }
  })
})

describe('weir model (CLI)', () => {
  const cli = async (dir: string, ...args: string[]) => weir(['model', '--lake', 'lake', ...args], {}, dir)

  it("a model's table is an Iceberg table unless format='parquet'; a partition Iceberg cannot keep is a clear error", async () => {
    const p = await modelProject({ examples: false })
    const model = (format: string, partition = 'day') =>
      `{{ config(materialized='table', partition_by='${partition}'${format ? `, format='${format}'` : ''}) }}\nselect id, lang, CAST(created_at AS DATE) AS day, created_at AS at from {{ source('x', 'tweets') }}\n`
    await p.write('models/by_day.sql', model(''))
    await p.load(tweets(range(0, 30), 20).concat(tweets(range(30, 40), 21)))
    const pipe = await p.pipeline()
    const { existsSync, readdirSync } = await import('node:fs')
    const metadata = join(p.lakeDir, 'refined/by_day/metadata')
    try {
      expect((await pipe.models({ test: false })).models[0]).toMatchObject({ action: 'created', rows: 40 })
      const ice = (await getTable(pipe.store, 'refined', 'by_day'))!
      expect(ice.iceberg && ice.files === undefined).toBe(true)
      // Each file carries the field ids of the table's schema, every column's, the partition's too.
      const { loadTable } = await import('../../src/catalog/iceberg/read.js')
      const { current } = await import('../../src/catalog/iceberg/metadata.js')
      const ids = new Map(
        current((await loadTable(pipe.store, 'refined/by_day/'))!.metadata).schema.fields.map((f) => [
          f.name,
          f.id,
        ]),
      )
      expect([...ids.keys()].sort()).toEqual(['at', 'day', 'id', 'lang'])
      for (const key of (await tableFiles(pipe.store, ice))!) {
        const footer = await pipe.query(
          `SELECT name, field_id FROM parquet_schema('${pipe.store.localPath!(key)}') WHERE field_id IS NOT NULL`,
        )
        expect(new Map(footer.rows.map((r) => [String(r.name), Number(r.field_id)]))).toEqual(ids)
      }
      const restore = fetchLocalFiles()
      try {
        const read = (await icebergRead({ tableUrl: uriOf(pipe.store, 'refined/by_day') })) as {
          day: unknown
        }[]
        expect(read).toHaveLength(40)
        // The day comes from the manifests' partition values (the files do not hold it).
        expect(new Set(read.map((r) => String(r.day)).filter((d) => d !== 'null')).size).toBe(2)
      } finally {
        restore()
      }
      // Parquet only: the entry lists the files, and the Iceberg metadata is gone.
      await p.write('models/by_day.sql', model('parquet'))
      expect((await pipe.models({ test: false })).models[0]).toMatchObject({ action: 'rebuilt', rows: 40 })
      const hive = (await getTable(pipe.store, 'refined', 'by_day'))!
      expect(hive.iceberg).toBeUndefined()
      expect(hive.files?.length).toBeGreaterThan(1)
      expect(existsSync(metadata) ? readdirSync(metadata) : []).toEqual([])
      expect((await pipe.query('select count(*) as n from refined.by_day')).rows).toEqual([{ n: 40 }])
      // And back: the Iceberg table's first commit is every file of the build.
      await p.write('models/by_day.sql', model(''))
      expect((await pipe.models({ test: false })).models[0]).toMatchObject({ action: 'rebuilt', rows: 40 })
      const back = fetchLocalFiles()
      try {
        expect(await icebergRead({ tableUrl: uriOf(pipe.store, 'refined/by_day') })).toHaveLength(40)
      } finally {
        back()
      }
      // A timestamp partition: Iceberg's manifests here hold dates, integers and text.
      await p.write('models/by_day.sql', model('', 'at'))
      const r = await pipe.models({ test: false, fullRefresh: true })
      expect(r.models[0]).toMatchObject({ action: 'failed' })
      expect(r.models[0]!.error).toMatch(
        /partition_by at is a TIMESTAMP[A-Z ]* column; .*CAST\(at AS DATE\).*format='parquet'/,
      )
    } finally {
      await pipe.close()
      await p.close()
    }
  })

  it('a cycle, a missing ref and a SQL error each fail in one line naming file:line', async () => {
    const p = await modelProject({ examples: false })
    await p.load([...users(2), ...tweets(range(0, 5), 20)])
    await p.close()
    await p.write('models/a.sql', "select 1 as x\nfrom {{ ref('b') }}\n")
    await p.write('models/b.sql', "-- b reads a\nselect * from {{ ref('a') }}\n")
    const cycle = await cli(p.dir)
    expect(cycle.code).toBe(1)
    expect(cycle.stderr).toBe('weir: models/a.sql:2: ref cycle: a → b → a (models/a.sql:2, models/b.sql:2)\n')

    await p.write('models/b.sql', "select * from {{ ref('dim_usr') }}\n")
    const missing = await cli(p.dir)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toBe(
      "weir: models/b.sql:1: ref('dim_usr') is not a model of this project (models: a, b)\n",
    )

    await p.write('models/a.sql', 'select 1 as x\n')
    await p.write(
      'models/b.sql',
      "{{ config(materialized='table') }}\nselect\n  id,\n  no_such_column\nfrom {{ source('x', 'tweets') }}\n",
    )
    const sql = await cli(p.dir)
    expect(sql.code).toBe(1)
    expect(sql.stderr).toMatch(
      /^weir: models\/b\.sql:4: Binder Error: Referenced column "?no_such_column"? not found.* \(model b\)\n$/,
    )
  })

  it('a failing data test reports its failing rows and a sample, and exits 1', async () => {
    const p = await modelProject()
    await p.load([...users(2), ...tweets(range(0, 6), 20)])
    await p.close()
    // Tweets by authors 100..104, but only users 100 and 101 (3 tweets by others): a relationships test of severity error fails.
    await p.write(
      'models/tweets/checks.yml',
      'models:\n  - name: fact_tweet\n    columns:\n      - name: user_id\n        tests:\n          - relationships: { to: dim_user, field: user_id }\n',
    )
    const r = await cli(p.dir, '--select', 'tag:tweets')
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(
      /^test\s+relationships_fact_tweet_user_id\s+FAIL\s+3 failing rows\s+models\/tweets\/checks\.yml:4$/m,
    )
    expect(r.stdout).toMatch(/^\s+\{"tweet_id":"159000000000000000\d","user_id":"10[234]"/m)
    // The same test as a warning does not fail the run.
    expect(r.stdout).toMatch(/^test\s+relationships_fact_tweet_user_id\s+WARN\s+3 failing rows/m)
    const only = await cli(p.dir, '--test', '--select', 'dim_user')
    expect(only.code).toBe(0)
    expect(only.stdout).not.toMatch(/^model/m)
  })

  it('--compile prints the SQL that will run, in build order', async () => {
    const p = await modelProject()
    await p.load([...users(1), ...tweets([1], 20)])
    await p.close()
    const r = await cli(p.dir, '--compile', '--select', '+fact_tweet_metrics_daily')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(
      /^-- fact_tweet_metrics_daily \(models\/tweets\/fact_tweet_metrics_daily\.sql\)\n-- Per day/,
    )
    expect(r.stdout).toContain('from trusted."x_tweets"\ngroup by all\n;')
  })
})
