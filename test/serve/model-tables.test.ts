import { afterEach, describe, expect, it } from 'vitest'
import { configSchema } from '../../src/config/schema.js'
import { openPipeline } from '../../src/pipeline/pipeline.js'
import { startServing } from '../../src/pipeline/serve.js'
import { modelProject, tweet, user } from '../models/helpers.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const PER_USER = `{{ config(materialized='table', unique_key='user_id') }}
select author_id as user_id, count(*) as tweets, sum(public_metrics_like_count) as likes
from {{ source('x', 'tweets') }}
group by author_id
`

describe('a served table filled from a refined model', () => {
  it('holds exactly the model: rows served by key and index, updated after a build, keys that left deleted', async () => {
    const project = await modelProject({ examples: false })
    cleanups.push(project.close)
    await project.write('models/tweets_per_user.sql', PER_USER)
    await project.load([
      ...[0, 1, 2].map((i) => ({ resource: 'users', data: user(i) })),
      ...Array.from({ length: 30 }, (_, i) => ({ resource: 'tweets', data: tweet(i, 20) })),
    ])
    const config = configSchema.parse({
      lake: project.lakeDir,
      serve: {
        tables: {
          user_stats: {
            model: 'tweets_per_user',
            key: 'user_id',
            indexes: { tweets: 'number' },
            derive: { per_tweet: 'likes / tweets' },
          },
        },
      },
    })
    const p = await openPipeline({ config, file: undefined, dir: project.dir })
    cleanups.push(() => p.close())
    await p.models()
    const serving = await startServing(p, { port: 0, host: '127.0.0.1', sink: false, ui: false })
    cleanups.push(() => serving.close())

    // Served per-user counts equal a SQL count over trusted.
    const counted = await p.query(
      'select author_id, count(*) as n, sum(public_metrics_like_count) as likes from trusted.x_tweets group by author_id',
    )
    expect(counted.rows.length).toBe(5)
    for (const r of counted.rows) {
      const res = await fetch(`${serving.url}/v1/user_stats/${r.author_id}`)
      expect(res.status).toBe(200)
      const item = (await res.json()) as { tweets: number; likes: number; per_tweet: number }
      expect(item.tweets).toBe(Number(r.n))
      expect(item.per_tweet).toBeCloseTo(Number(r.likes) / Number(r.n))
    }
    const busiest = (await (await fetch(`${serving.url}/v1/user_stats?sort=-tweets&limit=2`)).json()) as {
      items: { tweets: number }[]
    }
    expect(busiest.items).toHaveLength(2)

    // A new build where one user has no tweets left and another has more: served after the next check.
    await project.load(
      Array.from({ length: 6 }, (_, i) => ({ resource: 'tweets', data: tweet(100 + i * 5, 21) })),
    )
    await p.models()
    const after = await p.query('select author_id, count(*) as n from trusted.x_tweets group by author_id')
    const wanted = Object.fromEntries(after.rows.map((r) => [String(r.author_id), Number(r.n)]))
    const deadline = Date.now() + 15_000
    let served: Record<string, number> = {}
    while (Date.now() < deadline) {
      const page = (await (await fetch(`${serving.url}/v1/user_stats?limit=100`)).json()) as {
        items: { user_id: string; tweets: number }[]
      }
      served = Object.fromEntries(page.items.map((i) => [i.user_id, i.tweets]))
      if (JSON.stringify(served) === JSON.stringify(wanted)) break
      await new Promise((r) => setTimeout(r, 250))
    }
    expect(served).toEqual(wanted)
  }, 60_000)

  it('refuses a model table without a key, or with both a source and a model', () => {
    const bad = (t: Record<string, unknown>) =>
      JSON.stringify(
        configSchema.safeParse({ sources: { x: { kind: 'demo' } }, serve: { tables: { s: t } } }).error
          ?.issues,
      )
    expect(bad({ model: 'm' })).toMatch(/needs key/)
    expect(bad({ model: 'm', source: 'x', key: 'id' })).toMatch(/exactly one of source/)
  })
})
