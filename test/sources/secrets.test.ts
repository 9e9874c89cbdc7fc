import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Simulator, startSimulator } from '../../src/sources/simulator/simulator.js'
import { type CliResult, weir } from '../helpers/cli.js'
import { tempDir } from '../helpers/services.js'

const SECRETS = {
  X_TOKEN: 'sekret-x-bearer-0001',
  TOMORROW_KEY: 'sekret-tomorrow-0002',
  TMDB_KEY: 'sekret-tmdb-key-0003',
  CLIENT_SECRET: 'sekret-oauth-0004',
}

let sim: Simulator
beforeAll(async () => {
  sim = await startSimulator()
})
afterAll(async () => sim.close())

async function allFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name))
}

describe('secrets', () => {
  it('never appear in output, errors, the lake, the stream or the simulator log', async () => {
    const dir = await tempDir('weir-secrets-')
    await writeFile(
      join(dir, 'weir.yaml'),
      [
        'lake: ./lake',
        'sources:',
        '  x:',
        '    preset: x.recent_search',
        `    baseUrl: ${sim.url}`,
        '    auth: { bearer: "${X_TOKEN}" }',
        '    params: { query: ["#duckdb"] }',
        '  weather:',
        '    preset: tomorrow.realtime',
        `    baseUrl: ${sim.url}`,
        '    auth: { apiKey: "${TOMORROW_KEY}" }',
        '    params: { location: [toronto] }',
        '  movies:',
        '    preset: tmdb.movie_details',
        `    baseUrl: ${sim.url}`,
        '    auth: { apiKey: "${TMDB_KEY}" }',
        '    params: { movie_id: [10001] }',
        '    retry: { attempts: 2, baseDelay: 1ms }',
        'tables:',
        '  x.tweets: { eventTime: created_at }',
      ].join('\n'),
    )
    const env = { ...SECRETS }
    const outputs: CliResult[] = []
    const run = async (...args: string[]) => {
      const r = await weir(args, env, dir)
      outputs.push(r)
      return r
    }
    expect((await run('ingest', '--verbose')).code).toBe(0)
    expect((await run('land')).code).toBe(0)
    expect((await run('refine')).code).toBe(0)
    expect((await run('query', 'select * from raw.x_tweets limit 3', '-f', 'json')).code).toBe(0)
    // An API that echoes the request URL (key included) in its error body, in a failing run.
    sim.inject({ path: '/3/movie/', status: 500, count: 2, echo: true })
    const failed = await run('ingest', 'movies', '--verbose')
    expect(failed.code).toBe(1)
    expect(failed.stderr).toMatch(
      /source movies: GET \/3\/movie\/\{movie_id\} failed after 2 attempts: HTTP 500/,
    )
    expect(failed.stderr).toContain('api_key=***')
    // A refused request (401) with a bad config: the message must not show the key either.
    const bad = await run('query', 'select 1', '--config', 'nope.yaml')
    expect(bad.code).toBe(1)

    const texts = [
      ...outputs.flatMap((o) => [o.stdout, o.stderr]),
      JSON.stringify(sim.requests),
      ...(await Promise.all((await allFiles(join(dir, 'lake'))).map((f) => readFile(f, 'latin1')))),
    ]
    expect(texts.join('').length).toBeGreaterThan(10_000)
    for (const secret of Object.values(SECRETS)) {
      for (const t of texts) expect(t.includes(secret), `found ${secret}`).toBe(false)
    }
  })
})
