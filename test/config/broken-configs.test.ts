import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { weir } from '../helpers/cli.js'
import { tempDir } from '../helpers/services.js'

const SECRET = 'sk-marker-5f3a9c'
const ok = { kind: 'demo', dataset: 'x' }

/** Each config is wrong in one place; the key path each error must name. */
const cases: [string, Record<string, unknown>, string][] = [
  [
    'a bad cron',
    { sources: { x: ok }, run: { jobs: { x: { schedule: 'cron(61 * * * ? *)' } } } },
    'run.jobs.x.schedule',
  ],
  [
    'a bad rate',
    { sources: { x: ok }, run: { jobs: { x: { schedule: 'rate(often)' } } } },
    'run.jobs.x.schedule',
  ],
  ['a bad landing duration', { landing: { maxAge: 'soon' } }, 'landing.maxAge'],
  ['a bad run timeout', { run: { timeout: 'forever' } }, 'run.timeout'],
  ['a bad size', { landing: { maxBytes: 'big' } }, 'landing.maxBytes'],
  [
    'an unknown preset',
    { sources: { x: { preset: 'x.nope', auth: { bearer: SECRET } } } },
    'sources.x.preset',
  ],
  [
    'an unknown endpoint preset',
    { sources: { t: { kind: 'rest', baseUrl: 'https://a.b', endpoints: { e: { preset: 'tmdb.nope' } } } } },
    'sources.t.endpoints.e.preset',
  ],
  [
    'a table of no source',
    { sources: { x: ok }, tables: { 'y.tweets': { primaryKey: 'id' } } },
    'tables.y.tweets',
  ],
  [
    'a served table of no source',
    { sources: { x: ok }, serve: { tables: { t: { source: 'nope' } } } },
    'serve.tables.t.source',
  ],
  [
    'an alert on no source',
    {
      sources: { x: ok },
      alerts: {
        channels: { out: { kind: 'console' } },
        rules: { r: { source: 'nope', when: 'a > 1', channels: ['out'] } },
      },
    },
    'alerts.rules.r.source',
  ],
  [
    'a job of nothing',
    { sources: { x: ok }, run: { jobs: { nope: { schedule: 'rate(1 minute)' } } } },
    'run.jobs.nope',
  ],
  [
    'a job after nothing',
    { sources: { x: ok }, run: { jobs: { models: { after: ['nope'] } } } },
    'run.jobs.models.after.0',
  ],
  [
    'a backfill of no source',
    { sources: { x: ok }, run: { backfill: { nope: { params: {} } } } },
    'run.backfill.nope',
  ],
  ['a bad time zone', { run: { timeZone: 'Mars/Olympus' } }, 'run.timeZone'],
  // Secrets come from the environment: a value from there is never shown, whatever its key.
  ['a secret in a number', { engine: { threads: '${MARKER}' } }, 'engine.threads'],
  ['a secret in a duration', { sources: { x: ok }, run: { grace: '${MARKER}' } }, 'run.grace'],
  // A password typed into a URL is masked where the URL is shown.
  [
    'a serving store URL that is not one',
    { serve: { store: { kind: 'postgres', url: `postgres:/weir:${SECRET}@db/x` } } },
    'serve.store.url',
  ],
  [
    'a warehouse URL of another database',
    { warehouse: { postgres: { url: `mysql://weir:${SECRET}@db/x` } } },
    'warehouse.postgres.url',
  ],
]

describe('a broken config fails when it loads, in one line naming the file and the key', () => {
  for (const [what, config, path] of cases) {
    it(what, async () => {
      const dir = await tempDir('weir-broken-')
      await writeFile(join(dir, 'weir.json'), JSON.stringify({ lake: './lake', ...config }))
      for (const command of [['validate'], ['status']]) {
        const r = await weir(command, { MARKER: SECRET }, dir)
        expect(r.code, r.stdout).toBe(1)
        expect(r.stderr.trim().split('\n')).toHaveLength(1)
        expect(r.stderr).toContain(`weir.json: invalid config: ${path}`)
        expect(r.stderr + r.stdout).not.toContain(SECRET)
      }
    })
  }

  it('a valid config says so and exits 0', async () => {
    const dir = await tempDir('weir-valid-')
    await writeFile(
      join(dir, 'weir.json'),
      JSON.stringify({ sources: { x: ok }, run: { jobs: { x: { schedule: 'rate(5 minutes)' } } } }),
    )
    const r = await weir(['validate'], {}, dir)
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^weir\.json is valid: 1 source, /)
  })
})
