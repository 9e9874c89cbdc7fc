import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { RunRecord } from '../../src/scheduler/history.js'
import { startWeir, weir } from '../helpers/cli.js'
import { tempDir } from '../helpers/services.js'

/** Starts `weir run` in `dir`, sends SIGTERM after `ms`, and returns its exit code and output. */
async function runFor(dir: string, ms: number) {
  const w = startWeir(['run'], dir)
  const t = setTimeout(w.stop, ms)
  const r = await w.done
  clearTimeout(t)
  return r
}

const runs = async (dir: string, job: string) =>
  (
    JSON.parse(
      (await weir(['runs', '--job', job, '--format', 'json', '--limit', '200'], {}, dir)).stdout,
    ) as RunRecord[]
  ).reverse()

describe('weir run', () => {
  it('runs rate(2 seconds) jobs on time, never starts a slow job twice, retries a failing one then records it failed', async () => {
    const dir = await tempDir('weir-run-')
    await writeFile(
      join(dir, 'weir.config.ts'),
      `const sleep = (ms, signal) => new Promise((r) => { const t = setTimeout(r, ms); signal.addEventListener('abort', () => { clearTimeout(t); r() }) })
export default {
  lake: './lake',
  sources: {
    ticks: { kind: 'code', async *pull({ cursor }) { const n = (cursor ?? 0) + 1; yield { records: [{ resource: 'ticks', data: { id: n } }], cursor: n } } },
    slow: { kind: 'code', async *pull({ signal }) { await sleep(3000, signal); yield { records: [] } } },
    broken: { kind: 'code', async *pull() { throw new Error('upstream answered 503') } },
  },
  run: {
    retries: 2,
    retryDelay: '300ms',
    jobs: { ticks: { schedule: 'rate(2 seconds)' }, slow: { schedule: 'rate(1 second)' }, broken: { schedule: 'cron(0 0 1 1 ? *)' } },
  },
}
`,
    )
    const r = await runFor(dir, 7_000)
    expect(r.stderr).toMatch(/SIGTERM: finishing running jobs/)
    expect(r.code, r.stderr).toBe(0)
    // One JSON line per job event when not on a terminal.
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { job: string; event: string })
    expect(events.some((e) => e.job === 'ticks' && e.event === 'succeeded')).toBe(true)

    // ticks: at start, then every 2 seconds (7 s: 4 runs), never sooner than 2 s after the one
    // before. That each comes on time is test/scheduler/ticks.test.ts's, on a fake clock: a loaded
    // machine may run a real timer late, never early.
    const ticks = (await runs(dir, 'ticks')).filter((t) => t.outcome === 'succeeded')
    expect(ticks.length).toBeGreaterThanOrEqual(3)
    expect(ticks.length).toBeLessThanOrEqual(5)
    const gaps = ticks.slice(1).map((t, i) => Date.parse(t.start) - Date.parse(ticks[i]!.start))
    for (const g of gaps.slice(1)) expect(g).toBeGreaterThanOrEqual(1_990)

    // slow: each run starts after the one before ended; the ticks that found it running were skipped.
    const slow = await runs(dir, 'slow')
    const done = slow.filter((s) => s.outcome === 'succeeded')
    for (let i = 1; i < done.length; i++)
      expect(Date.parse(done[i]!.start)).toBeGreaterThanOrEqual(Date.parse(done[i - 1]!.end))
    expect(slow.filter((s) => s.outcome === 'skipped').length).toBeGreaterThanOrEqual(2)
    expect(slow.find((s) => s.outcome === 'skipped')?.error).toBe('the previous run was still running')

    // broken: three attempts with backoff, then failed with its reason.
    const failed = await weir(['runs', '--failed'], {}, dir)
    expect(failed.stdout).toMatch(/^broken\s+\S+\s+\S+\s+failed\s+3\s+0\s+0\s+upstream answered 503$/m)
    const [broken] = await runs(dir, 'broken')
    // Waited before each retry: full jitter, a random wait up to 300 ms, then up to 600 ms.
    const waits = events
      .filter((e) => e.job === 'broken' && e.event === 'retrying')
      .map((e) => (e as { delayMs?: number }).delayMs ?? -1)
    expect(waits).toHaveLength(2)
    expect(waits[0]).toBeLessThanOrEqual(300)
    expect(waits[1]).toBeLessThanOrEqual(600)
    expect(Date.parse(broken!.end) - Date.parse(broken!.start)).toBeGreaterThanOrEqual(
      waits[0]! + waits[1]! - 5,
    )
  }, 30_000)

  it('SIGTERM in a busy run: buffers flushed and committed, exit 0, nothing lost or duplicated', async () => {
    const dir = await tempDir('weir-run-')
    await writeFile(
      join(dir, 'weir.config.ts'),
      `export default {
  lake: './lake',
  sources: {
    firehose: {
      kind: 'code',
      async *pull({ cursor, signal }) {
        let n = cursor ?? 0
        for (let b = 0; b < 50 && !signal.aborted; b++) {
          const records = Array.from({ length: 200 }, (_, i) => ({ resource: 'events', data: { id: n + i + 1, at: '2026-11-20T10:00:00Z' } }))
          n += 200
          yield { records, cursor: n }
          await new Promise((r) => setTimeout(r, 20))
        }
      },
    },
  },
  tables: { 'firehose.events': { eventTime: 'at' } },
  landing: { maxRecords: 1000, maxAge: '1s' },
  run: { jobs: { firehose: { schedule: 'rate(1 second)' } } },
}
`,
    )
    const r = await runFor(dir, 3_500)
    expect(r.code, r.stderr).toBe(0)
    const published = (
      JSON.parse(
        (await weir(['runs', '--job', 'firehose', '--format', 'json'], {}, dir)).stdout,
      ) as RunRecord[]
    ).reduce((n, x) => n + x.records, 0)
    expect(published).toBeGreaterThan(1000)
    // What the stream still holds (published after landing stopped polling) lands now, once.
    expect((await weir(['land'], {}, dir)).code).toBe(0)
    expect((await weir(['refine'], {}, dir)).code).toBe(0)
    const q = await weir(
      [
        'query',
        'select count(*) as n, count(distinct id) as ids, max(id) as top from raw.firehose_events',
        '-f',
        'json',
      ],
      {},
      dir,
    )
    expect(JSON.parse(q.stdout)).toEqual([{ n: published, ids: published, top: published }])
    const t = await weir(
      ['query', 'select count(*) as n from trusted.firehose_events', '-f', 'json'],
      {},
      dir,
    )
    expect(JSON.parse(t.stdout)).toEqual([{ n: published }])
  }, 30_000)
})

describe('backpressure', () => {
  it("a source waits while landing's lag is over run.maxLag, then all lands once", async () => {
    const dir = await tempDir('weir-bp-')
    await writeFile(
      join(dir, 'weir.config.ts'),
      `export default {
  lake: './lake',
  sources: {
    fast: {
      kind: 'code',
      async *pull({ cursor, signal }) {
        for (let b = cursor ?? 0; b < Number(process.env.BATCHES ?? 50) && !signal.aborted; b++)
          yield { records: Array.from({ length: 100 }, (_, i) => ({ resource: 'events', data: { id: b * 100 + i + 1 } })), cursor: b + 1 }
      },
    },
  },
  run: { maxLag: 500 },
}
`,
    )
    // Landing has committed once (lag is counted against its group), then stops: only ingest runs.
    expect((await weir(['run', '--once'], { BATCHES: '1' }, dir)).code).toBe(0)
    const w = startWeir(['run', '--role', 'ingest'], dir)
    await new Promise((r) => setTimeout(r, 4_000))
    w.stop()
    const r = await w.done
    expect(r.code, r.stderr).toBe(0)
    const status = JSON.parse((await weir(['status', '--format', 'json'], {}, dir)).stdout) as {
      groups: { group: string; lag: number }[]
    }
    const lag = status.groups.filter((g) => g.group === 'landing').reduce((n, g) => n + g.lag, 0)
    // At most the bound and the batches in flight past it (four): not the 5,000 the source had.
    expect(lag).toBeGreaterThan(0)
    expect(lag).toBeLessThanOrEqual(500 + 4 * 100)
    expect(r.stdout).toMatch(/"event":"partial"/)
    const once = await weir(['run', '--once'], {}, dir)
    expect(once.code, once.stderr).toBe(0)
    const q = await weir(
      ['query', 'select count(*) as n, count(distinct id) as d from trusted.fast_events', '-f', 'json'],
      {},
      dir,
    )
    expect(JSON.parse(q.stdout)).toEqual([{ n: 5000, d: 5000 }])
  }, 60_000)
})
