import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { startWeir, weir } from '../helpers/cli.js'
import { dropNatsStreams } from '../helpers/nats.js'
import { serviceUp, tempDir } from '../helpers/services.js'

const NATS = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'

const up = await serviceUp('NATS', NATS, 4222, 'shared landing tests')
const prefix = `share${randomBytes(3).toString('hex')}`
afterAll(async () => {
  if (up) await dropNatsStreams(NATS, [prefix])
})

const start = (dir: string) => startWeir(['run', '--role', 'landing'], dir)

describe.skipIf(!up)('landing shared by processes (NATS)', () => {
  it('two `weir run --role landing` processes split the partitions and together land each record exactly once', async () => {
    const dir = await tempDir('weir-share-')
    const N = 4000
    await writeFile(
      join(dir, 'weir.config.ts'),
      `export default {
  lake: './lake',
  stream: { kind: 'nats', url: '${NATS}', prefix: '${prefix}', partitions: 4 },
  sources: {
    events: {
      kind: 'code',
      async *pull() {
        for (let b = 0; b < ${N / 100}; b++) {
          yield { records: Array.from({ length: 100 }, (_, i) => ({ resource: 'clicks', data: { id: b * 100 + i + 1, at: '2026-11-20T10:00:00Z' } })) }
        }
      },
    },
  },
  tables: { 'events.clicks': { eventTime: 'at' } },
  landing: { maxRecords: 500, maxAge: '1s' },
}
`,
    )
    const a = start(dir)
    const b = start(dir)
    // Both announce themselves, then split the 4 partitions; records arrive after.
    await new Promise((r) => setTimeout(r, 3000))
    const ingest = await weir(['ingest'], {}, dir)
    expect(ingest.code, ingest.stderr).toBe(0)
    const count = async () => {
      const q = await weir(
        ['query', 'select count(*) as n, count(distinct id) as ids from raw.events_clicks', '-f', 'json'],
        {},
        dir,
      )
      return q.code === 0 ? (JSON.parse(q.stdout)[0] as { n: number; ids: number }) : { n: 0, ids: 0 }
    }
    const deadline = Date.now() + 30_000
    let got = await count()
    while (got.n < N && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500))
      got = await count()
    }
    a.stop()
    b.stop()
    const [ra, rb] = await Promise.all([a.done, b.done])
    expect(ra.code, ra.stderr).toBe(0)
    expect(rb.code, rb.stderr).toBe(0)
    expect(await count()).toEqual({ n: N, ids: N })
    // Each process landed a share.
    const landed = (out: string) =>
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { job: string; event: string; records?: number })
        .filter((e) => e.job === 'land' && e.event === 'succeeded')
        .reduce((n, e) => n + (e.records ?? 0), 0)
    expect(landed(ra.stdout)).toBeGreaterThan(0)
    expect(landed(rb.stdout)).toBeGreaterThan(0)
    expect(landed(ra.stdout) + landed(rb.stdout)).toBe(N)
  }, 60_000)
})

describe('leases', () => {
  it('three processes taking the same refine lease in a loop never hold it at once', async () => {
    const lake = await tempDir('weir-lease-')
    const run = promisify(execFile)
    const worker = resolve('test/fixtures/workers/lease-holder.mjs')
    const results = await Promise.all(
      [1, 2, 3].map(
        async () =>
          JSON.parse((await run(process.execPath, [worker, lake, '3000'])).stdout) as {
            acquired: number
            violations: number
          },
      ),
    )
    for (const r of results) {
      expect(r.violations).toBe(0)
      expect(r.acquired).toBeGreaterThan(0)
    }
  }, 30_000)
})
