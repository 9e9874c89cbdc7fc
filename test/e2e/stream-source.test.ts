import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { startSimulator } from '../../src/sources/simulator/simulator.js'
import { createEmbeddedStream } from '../../src/stream/embedded/embedded-stream.js'
import { startWeir, weir } from '../helpers/cli.js'
import { tempDir } from '../helpers/services.js'

const TOTAL = 10_000
const ALL_TAGS = '#dataengineering OR #duckdb OR #aws OR #opensource OR #analytics OR #streaming'

/**
 * Acceptance of streaming sources, as a user runs them: `weir run` (a real process) follows X's
 * filtered stream on the simulator while the connection is dropped 5 times and the process itself
 * is SIGKILLed once and started again. The table has no primary key, so no dedupe can hide a
 * duplicate: trusted must hold each of the 10,000 tweets exactly once, and 95% of them must reach
 * the stream within 2 s of the simulator sending them.
 */
describe('a streaming source under weir run', () => {
  it(`holds ${TOTAL.toLocaleString('en-US')} tweets exactly once after 5 dropped connections and a SIGKILL, published within seconds`, async () => {
    const sim = await startSimulator({ streams: { rate: 800, total: TOTAL, keepAliveMs: 500 } })
    const dir = await tempDir('weir-stream-e2e-')
    try {
      await writeFile(
        join(dir, 'weir.yaml'),
        [
          'lake: ./lake',
          'sources:',
          '  xs:',
          '    kind: http-stream',
          '    preset: x.filtered_stream',
          `    baseUrl: ${sim.url}`,
          '    auth: { bearer: "${X_BEARER_TOKEN}" }',
          `    rules: [{ value: "${ALL_TAGS}", tag: all }]`,
          '    backfillMinutes: 5',
          '    batch: { maxAge: 250ms }',
          'landing: { maxAge: 1s }',
          // No primary key: a tweet twice is two rows.
          'tables: { xs.tweets: { eventTime: created_at } }',
          '',
        ].join('\n'),
      )
      const env = { X_BEARER_TOKEN: 'sim-token-e2e' }
      let w = startWeir(['run'], dir, env)
      const t0 = Date.now()
      let killedAt = 0
      // 12.5 s of tweets; the connection drops every 1.5 s, and the process is killed once.
      for (let drop = 1; drop <= 5; drop++) {
        await new Promise((r) => setTimeout(r, 1_500))
        sim.streams.disconnect(drop % 2 === 0)
        if (drop === 3) {
          w.kill('SIGKILL')
          killedAt = Date.now()
          await w.done
          await new Promise((r) => setTimeout(r, 500))
          w = startWeir(['run'], dir, env)
        }
      }
      // Until every tweet was sent, plus time for the last batch to land.
      await new Promise((r) => setTimeout(r, Math.max(0, t0 + (TOTAL / 800) * 1000 + 4_000 - Date.now())))
      w.stop()
      const end = await w.done
      expect(end.code, end.stderr).toBe(0)
      const once = await weir(['run', '--once', '--role', 'landing', 'refine'], env, dir)
      expect(once.code, once.stderr).toBe(0)
      const q = await weir(
        ['query', 'select count(*) as n, count(distinct id) as d from trusted.xs_tweets', '-f', 'json'],
        env,
        dir,
      )
      expect(q.code, q.stderr).toBe(0)
      expect(JSON.parse(q.stdout)).toEqual([{ n: TOTAL, d: TOTAL }])

      // Latency from arrival: a tweet arrives when the simulator sends it (its created_at), except
      // those sent while no process ran, which arrive in the backfill when the new process connects.
      const reconnectedAt = sim.requests.find(
        (r) => r.path === '/2/tweets/search/stream' && r.at > killedAt,
      )!.at
      const stream = await createEmbeddedStream(join(dir, 'lake', '_stream'))
      const lat: number[] = []
      try {
        for await (const batch of stream.readSince('xs', 0))
          for (const d of batch) {
            if (d.headers.resource !== 'tweets') continue
            const t = JSON.parse(Buffer.from(d.value).toString()) as { created_at: string }
            const sent = Date.parse(t.created_at)
            lat.push(d.timestamp - (sent >= killedAt - 1_000 && sent < reconnectedAt ? reconnectedAt : sent))
          }
      } finally {
        await stream.close()
      }
      lat.sort((a, b) => a - b)
      const p95 = lat[Math.floor(lat.length * 0.95)]!
      console.log(
        `stream e2e: ${lat.length} tweets in the stream, p50 ${lat[Math.floor(lat.length / 2)]} ms, p95 ${p95} ms`,
      )
      expect(lat.length).toBe(TOTAL)
      expect(p95).toBeLessThan(2_000)
      const connects = sim.requests.filter((r) => r.path === '/2/tweets/search/stream')
      // The first, one after each drop (the kill may come before the third's), one after the restart.
      expect(connects.length).toBeGreaterThanOrEqual(6)
    } finally {
      await sim.close()
    }
  }, 90_000)
})
