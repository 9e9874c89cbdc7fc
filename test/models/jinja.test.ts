import { describe, expect, it } from 'vitest'
import { configSchema } from '../../src/config/schema.js'
import { openPipeline } from '../../src/pipeline/pipeline.js'
import { weir } from '../helpers/cli.js'
import { modelProject, tweet } from './helpers.js'

const tweets = (from: number, to: number, day: number) =>
  Array.from({ length: to - from }, (_, k) => ({ resource: 'tweets', data: tweet(from + k, day) }))

/** A small dbt-style project: a macro, var(), env_var(), set/for/if, is_incremental() and a ref chain. */
const PROJECT: Record<string, string> = {
  'macros/metrics.sql': `{% macro engagement(prefix) -%}
  ({{ prefix }}_like_count + {{ prefix }}_retweet_count)
{%- endmacro %}
{% macro in_list(values) %}({% for v in values %}'{{ v }}'{% if not loop.last %}, {% endif %}{% endfor %}){% endmacro %}
`,
  'models/staging/stg_tweets.sql': `{{ config(materialized='view') }}
select
  id as tweet_id,
  author_id,
  lang,
  created_at,
  {{ engagement('public_metrics') }} as engagement,
  '{{ env_var("WEIR_TEST_REGION", "eu") }}' as region
from {{ source('x', 'tweets') }}
where lang in {{ in_list(var('langs')) }}
`,
  'models/marts/fct_tweets.sql': `{{
  config(materialized='incremental', unique_key='tweet_id')
}}
{% set min_engagement = var('min_engagement', 0) %}
select tweet_id, author_id, created_at, engagement, region
from {{ ref('stg_tweets') }}
where engagement >= {{ min_engagement }}
{% if is_incremental() %}
  and created_at > (select max(created_at) from {{ this }})
{% endif %}
`,
  'models/marts/author_stats.sql': `{{ config(materialized='table') }}
select author_id, count(*) as tweets, sum(engagement) as engagement
from {{ ref('fct_tweets') }}
group by author_id
`,
  'models/marts/schema.yml': `version: 2
models:
  - name: fct_tweets
    columns:
      - name: tweet_id
        tests: [unique, not_null]
      - name: author_id
        tests:
          - relationships: { to: ref('author_stats'), field: author_id }
  - name: author_stats
    columns:
      - name: author_id
        tests: [unique]
`,
  'tests/assert_engagement_floor.sql': `select * from {{ ref('fct_tweets') }} where engagement < {{ var('min_engagement', 0) }}`,
}

async function dbtProject() {
  const p = await modelProject({ examples: false })
  for (const [path, text] of Object.entries(PROJECT)) await p.write(path, text)
  const open = () =>
    openPipeline({
      config: configSchema.parse({
        lake: p.lakeDir,
        models: { vars: { langs: ['en', 'pt'], min_engagement: 3 } },
      }),
      file: undefined,
      dir: p.dir,
    })
  return { ...p, open }
}

const everything = async (pipe: Awaited<ReturnType<typeof openPipeline>>, table: string) =>
  (await pipe.query(`select * from refined.${table} order by all`)).rows

describe('models with Jinja (dbt style)', () => {
  it('builds a dbt-style project with a macro, var(), is_incremental() and a ref chain; its tests pass; built twice incrementally it equals a full build', async () => {
    const p = await dbtProject()
    try {
      await p.load(tweets(0, 40, 20))
      const pipe = await p.open()
      try {
        const first = await pipe.models()
        expect(first.models.map((m) => [m.model, m.action])).toEqual([
          ['stg_tweets', 'created'],
          ['fct_tweets', 'created'],
          ['author_stats', 'created'],
        ])
        expect(first.tests.map((t) => [t.name, t.status]).filter(([, s]) => s !== 'pass')).toEqual([])
        expect(first.tests.length).toBe(5)
        // The macro, the for loop over var('langs') and env_var's default are in the rows.
        const rows = await everything(pipe, 'fct_tweets')
        // engagement = likes + retweets = i + i % 4, so min_engagement 3 drops ids 0 and 1.
        expect(rows.length).toBe(38)
        expect(rows[0]).toMatchObject({ region: 'eu' })

        await p.load(tweets(40, 70, 21))
        const second = await pipe.models()
        const fct = second.models.find((m) => m.model === 'fct_tweets')!
        // is_incremental() was true: only the new day's tweets were computed.
        expect([fct.action, fct.rows]).toEqual(['incremental', 30])
        expect(second.tests.filter((t) => t.status !== 'pass')).toEqual([])
        const incremental = {
          fct: await everything(pipe, 'fct_tweets'),
          stats: await everything(pipe, 'author_stats'),
        }
        expect(incremental.fct.length).toBe(68)

        const full = await pipe.models({ fullRefresh: true })
        expect(full.models.find((m) => m.model === 'fct_tweets')?.rows).toBe(68)
        expect({
          fct: await everything(pipe, 'fct_tweets'),
          stats: await everything(pipe, 'author_stats'),
        }).toEqual(incremental)
      } finally {
        await pipe.close()
      }
    } finally {
      await p.close()
    }
  })

  it('weir model --compile renders the Jinja with --vars over the config; an unset var() or a template error fails in one line naming file:line', async () => {
    const p = await dbtProject()
    try {
      await p.load(tweets(0, 5, 20))
      await p.write('weir.yaml', 'lake: lake\nmodels:\n  vars:\n    langs: [en]\n')
      const compiled = await weir(['model', '--compile', '--vars', '{"langs": ["en", "es"]}'], {}, p.dir)
      expect(compiled.stderr).toBe('')
      expect(compiled.stdout).toContain("where lang in ('en', 'es')")
      expect(compiled.stdout).toContain(
        '(public_metrics_like_count + public_metrics_retweet_count) as engagement',
      )
      // Not incremental while compiling: the model's own filter is left out.
      expect(compiled.stdout).not.toContain('max(created_at)')

      await p.write('weir.yaml', 'lake: lake\n')
      const unset = await weir(['model', '--compile'], {}, p.dir)
      expect(unset.code).toBe(1)
      expect(unset.stderr.trim().split('\n')).toEqual([
        `weir: models/staging/stg_tweets.sql:10: var('langs') has no value: set it under models.vars in the config or pass --vars '{"langs": ...}'`,
      ])

      await p.write('models/broken.sql', 'select 1 as x\n{% if %}\n')
      const broken = await weir(['model', '--compile', '--vars', 'langs: [en]'], {}, p.dir)
      expect(broken.code).toBe(1)
      expect(broken.stderr).toMatch(/^weir: models\/broken\.sql:2: unexpected token: %\}\n$/)

      const badVars = await weir(['model', '--compile', '--vars', '[1, 2]'], {}, p.dir)
      expect(badVars.stderr).toMatch(/^weir: --vars takes a mapping/)
    } finally {
      await p.close()
    }
  })
})
