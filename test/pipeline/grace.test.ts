import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { startSimulator } from '../../src/sources/simulator/simulator.js'
import { startWeir } from '../helpers/cli.js'
import { tempDir } from '../helpers/services.js'

describe('shutdown within run.grace', () => {
  it('SIGTERM during a slow request: the request is cut, no page is asked for after, exit within grace + 1 s', async () => {
    // Every answer takes 4 s: a run is always in the middle of a request.
    const sim = await startSimulator({ latencyMs: 4_000, tweetsPerHour: 600 })
    try {
      const dir = await tempDir('weir-grace-')
      await writeFile(
        join(dir, 'weir.config.ts'),
        `export default {
  lake: './lake',
  sources: { x: { preset: 'x.recent_search', baseUrl: '${sim.url}', auth: { bearer: 't' }, params: { query: ['#data'] } } },
  run: { grace: '1s' },
}
`,
      )
      const w = startWeir(['run'], dir)
      for (let i = 0; i < 200 && sim.requests.length === 0 && !w.exited(); i++)
        await new Promise((r) => setTimeout(r, 50))
      // The request is logged when its answer starts; wait for the second one to be in flight.
      await new Promise((r) => setTimeout(r, 5_000))
      const t0 = Date.now()
      w.stop()
      const r = await w.done
      const took = Date.now() - t0
      expect(took).toBeLessThan(2_000)
      expect(r.code, r.stderr).toBe(0)
      // Let any request sent after the signal reach the simulator's log (it logs each with its
      // arrival time once answered, 4 s later): none arrived after the signal.
      await new Promise((res) => setTimeout(res, 4_500))
      expect(sim.requests.length).toBeGreaterThan(0)
      expect(sim.requests.filter((q) => q.at >= t0)).toEqual([])
      expect(r.stdout).toMatch(/"job":"x","event":"partial"/)
    } finally {
      await sim.close()
    }
  }, 60_000)
})
