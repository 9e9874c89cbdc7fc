import { writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createLeases } from '../../src/state/lease.js'
import { createLocalStore } from '../../src/storage/local/local-store.js'
import { weir } from '../helpers/cli.js'
import { tempDir } from '../helpers/services.js'

const inAMinute = () => new Date(Date.now() + 60_000).toISOString()

describe('leases name their holder', () => {
  it('a lease held by a process that died on this host is taken over at once', async () => {
    const store = createLocalStore(await tempDir('weir-lease-'))
    await store.put(
      '_state/leases/refine/t.json',
      JSON.stringify({
        owner: 'gone',
        expiresAt: inAMinute(),
        host: hostname(),
        pid: 2 ** 22 + 11,
        started: 1,
      }),
    )
    const me = createLeases(store)
    expect(await me.acquire('refine/t', 60_000)).toBe(true)
    expect((await me.describe('refine/t'))?.process).toMatch(new RegExp(`^pid ${process.pid} on `))
  })

  it("a live holder's lease is kept: acquire says no, a waiting acquire gets it once released", async () => {
    const store = createLocalStore(await tempDir('weir-lease-'))
    const other = createLeases(store, 'other')
    const me = createLeases(store, 'me')
    expect(await other.acquire('refine/t', 60_000)).toBe(true)
    expect(await me.acquire('refine/t', 60_000)).toBe(false)
    setTimeout(() => void other.release('refine/t'), 700)
    const t0 = Date.now()
    expect(await me.acquireWaiting('refine/t', 60_000, 5_000)).toBe(true)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(600)
    // Waiting gives up at its limit.
    expect(await other.acquireWaiting('refine/t', 60_000, 300)).toBe(false)
  })
})

describe('a table another process holds is skipped, never a success with 0 records', () => {
  it('weir refine says skipped with the holder, exits 1, and refines once the holder is gone', async () => {
    const dir = await tempDir('weir-skip-')
    await writeFile(join(dir, 'events.ndjson'), '{"id":1}\n{"id":2}\n')
    await writeFile(
      join(dir, 'weir.config.ts'),
      `export default { lake: './lake', sources: { s: { kind: 'file', path: 'events.ndjson' } } }\n`,
    )
    expect((await weir(['ingest'], {}, dir)).code).toBe(0)
    expect((await weir(['land'], {}, dir)).code).toBe(0)
    // Another machine's process refines this table (it cannot be judged from here: it may be alive).
    const lease = join(dir, 'lake', '_state', 'leases', 'refine', 's_events.json')
    const { mkdir } = await import('node:fs/promises')
    await mkdir(join(dir, 'lake', '_state', 'leases', 'refine'), { recursive: true })
    await writeFile(
      lease,
      JSON.stringify({ owner: 'x', expiresAt: inAMinute(), host: 'elsewhere', pid: 7, started: 0 }),
    )
    const r = await weir(['refine'], {}, dir)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/refine skipped: s_events: another process is refining it \(pid 7 on elsewhere/)
    // Stages run by hand are in the history like scheduled ones, as what they were.
    const runs = JSON.parse((await weir(['runs', '--format', 'json'], {}, dir)).stdout) as {
      job: string
      outcome: string
      trigger: string
      records: number
      error?: string
    }[]
    expect(runs.map((x) => [x.job, x.trigger, x.outcome]).reverse()).toEqual([
      ['s', 'weir ingest', 'succeeded'],
      ['land', 'weir land', 'succeeded'],
      ['refine', 'weir refine', 'skipped'],
    ])
    expect(runs[0]!.error).toMatch(/pid 7 on elsewhere/)
    // The holder went away (its lease lapsed): the same command refines.
    await writeFile(lease, JSON.stringify({ owner: 'x', expiresAt: new Date(0).toISOString() }))
    const again = await weir(['refine', '--log-format', 'text'], {}, dir)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toMatch(/refine\s+2 records/)
  })
})
