import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { weir } from '../helpers/cli.js'
import { tempDir } from '../helpers/services.js'

// No credentials: the project's sources use the simulator, in-process, with no network.
const env = { X_BEARER_TOKEN: '', TOMORROW_API_KEY: '', WEIR_LAKE: '' }

describe('weir init', () => {
  it('makes a project where `weir run --once` drains every stage with no credentials, and the zones are queryable', async () => {
    const parent = await tempDir('weir-init-')
    const dir = join(parent, 'proj')
    const init = await weir(['init', dir])
    expect(init.code, init.stderr).toBe(0)
    expect(init.stdout).toMatch(/next: cd .*proj && weir run --once/)
    const run = await weir(['run', '--once'], env, dir)
    // One line says which sources get made-up data, so nobody takes it for the real API's.
    expect(run.stderr).toMatch(
      /^weir: x, weather: no credential set \(it says "simulator"\), so these sources get made-up data/,
    )
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
    expect(run.code).toBe(0)
    const events = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { job: string; event: string; seconds?: number })
    // Durations in milliseconds, not 0.32452548200000003.
    const timed = events.filter((e) => e.seconds !== undefined)
    expect(timed.length).toBeGreaterThan(0)
    for (const e of timed) expect(String(e.seconds)).toMatch(/^\d+(\.\d{1,3})?$/)
    // (refine runs as landing's micro-batches, then once more for anything not landed through it)
    expect([...new Set(events.filter((e) => e.event === 'succeeded').map((e) => e.job))].sort()).toEqual(
      ['land', 'maintain', 'models', 'refine', 'weather', 'x'].sort(),
    )
    // Drained: nothing waits in the stream or in the raw zone.
    const status = await weir(['status', '--format', 'json'], {}, dir)
    expect(status.stdout).toMatch(/"lag":0/)
    expect(status.stdout).not.toMatch(/"lag":[1-9]/)
    expect((await weir(['refine', '--status'], {}, dir)).stdout).toMatch(/^x_tweets\s+0\s+0 B/m)
    for (const t of [
      'trusted.x_tweets',
      'trusted.weather_realtime',
      'refined.fact_tweet',
      'refined.dim_user',
      'refined.fact_weather_observation',
    ]) {
      const q = await weir(['query', `select count(*) as n from ${t}`, '-f', 'json'], {}, dir)
      expect(JSON.parse(q.stdout)[0].n, t).toBeGreaterThan(0)
    }
    expect((await weir(['runs', '--failed'], {}, dir)).stdout).toBe('(no runs yet)\n')
  }, 60_000)

  it('refuses a folder that is not empty', async () => {
    const dir = await tempDir('weir-init-')
    await writeFile(join(dir, 'notes.txt'), 'mine')
    const r = await weir(['init', dir])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(`weir: ${dir} is not empty; give weir init a new or empty folder\n`)
  })
})
