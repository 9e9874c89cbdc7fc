import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Simulator, startSimulator } from '../../src/sources/simulator/simulator.js'
import { weir } from '../helpers/cli.js'
import { tempDir } from '../helpers/services.js'

let sim: Simulator
beforeAll(async () => {
  sim = await startSimulator({ historyDays: 7 })
})
afterAll(async () => sim.close())

async function project(): Promise<string> {
  const dir = await tempDir('weir-backfill-')
  await writeFile(
    join(dir, 'weir.yaml'),
    `lake: ./lake
sources:
  x:
    preset: x.recent_search
    baseUrl: ${sim.url}
    auth: { bearer: test-token }
    params: { query: '#duckdb' }
tables:
  x.tweets: { eventTime: created_at, primaryKey: id }
run:
  retries: 0
  backfill:
    x: { window: 1d, params: { start_time: '{start}', end_time: '{end}' } }
`,
  )
  return dir
}

/** The windows the simulator was asked for: search requests' start_time..end_time, in order. */
const asked = (from: number) => [
  ...new Set(
    sim.requests
      .slice(from)
      .filter((r) => r.path === '/2/tweets/search/recent')
      .map((r) => `${r.query.start_time}..${r.query.end_time}`),
  ),
]

const DAYS = [
  '2026-11-18T00:00:00Z..2026-11-19T00:00:00Z',
  '2026-11-19T00:00:00Z..2026-11-20T00:00:00Z',
  '2026-11-20T00:00:00Z..2026-11-21T00:00:00Z',
]

describe('weir backfill', () => {
  it('issues one windowed run per day with its start_time and end_time; --dry-run issues none', async () => {
    const dir = await project()
    const before = sim.requests.length
    const dry = await weir(
      ['backfill', 'x', '--from', '2026-11-18', '--to', '2026-11-20', '--dry-run'],
      {},
      dir,
    )
    expect(dry.code, dry.stderr).toBe(0)
    expect(sim.requests.length).toBe(before)
    expect(dry.stdout.match(/planned/g)).toHaveLength(3)
    expect(dry.stdout).toContain('start_time=2026-11-19T00:00:00Z end_time=2026-11-20T00:00')

    const r = await weir(['backfill', 'x', '--from', '2026-11-18', '--to', '2026-11-20'], {}, dir)
    expect(r.code, r.stderr).toBe(0)
    expect(asked(before)).toEqual(DAYS)
    expect(r.stdout.match(/\bran\b/g)).toHaveLength(3)
    const runs = JSON.parse((await weir(['runs', '--job', 'backfill:x', '-f', 'json'], {}, dir)).stdout) as {
      trigger: string
    }[]
    expect(runs.map((x) => x.trigger).sort()).toEqual(DAYS.map((d) => `window ${d.replace('..', '/')}`))
    // Again: every window is done, nothing is asked.
    const n = sim.requests.length
    expect(
      (await weir(['backfill', 'x', '--from', '2026-11-18', '--to', '2026-11-20'], {}, dir)).stdout.match(
        /\bdone\b/g,
      ),
    ).toHaveLength(3)
    expect(sim.requests.length).toBe(n)
  })

  it('a backfill that stopped at a failing window resumes there, without asking for the finished ones again', async () => {
    const dir = await project()
    // The second day's requests fail (and the source gives up), as an outage would.
    sim.inject({
      path: '/2/tweets/search/recent',
      query: (q) => q.start_time === '2026-11-19T00:00:00Z',
      status: 400,
      count: 1000,
    })
    const before = sim.requests.length
    const first = await weir(['backfill', 'x', '--from', '2026-11-18', '--to', '2026-11-20'], {}, dir)
    expect(first.code).toBe(1)
    expect(first.stderr).toMatch(
      /^weir: backfill window 2026-11-19T00:00:00Z\.\.2026-11-20T00:00:00Z failed: .*; run the same command again to resume\n$/,
    )
    expect(first.stdout).toMatch(/2026-11-18T00:00:00Z\s+2026-11-19T00:00:00Z\s+ran/)
    expect(first.stdout).toMatch(/2026-11-20T00:00:00Z\s+2026-11-21T00:00:00Z\s+pending/)
    expect(asked(before)).toEqual(DAYS.slice(0, 2))
    sim.clearFaults()
    const mid = sim.requests.length
    const second = await weir(['backfill', 'x', '--from', '2026-11-18', '--to', '2026-11-20'], {}, dir)
    expect(second.code, second.stderr).toBe(0)
    expect(asked(mid)).toEqual(DAYS.slice(1))
    expect(second.stdout).toMatch(/2026-11-18T00:00:00Z\s+2026-11-19T00:00:00Z\s+done/)
  })
})
