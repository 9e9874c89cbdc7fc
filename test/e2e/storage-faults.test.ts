import { readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startWeir, weir } from '../helpers/cli.js'
import { startFaultProxy } from '../helpers/fault-proxy.js'
import { s3Env, startS3, tempDir } from '../helpers/services.js'
import { type SmallDisk, smallDisk } from '../helpers/tmpfs.js'

/**
 * `weir run` as a real process while its storage fails under it: a disk that fills, a lake made
 * read-only, an S3 that answers some requests with 500, 503 or nothing. Each time the run must
 * survive, landing must resume by itself once storage is back, and every record must reach trusted
 * exactly once (no primary key: nothing dedupes).
 */
const BATCHES = 250
const N = BATCHES * 100

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function project(lake: string, extra = ''): Promise<string> {
  const dir = await tempDir('weir-faults-')
  await writeFile(
    join(dir, 'weir.config.ts'),
    `export default {
  lake: ${JSON.stringify(lake)},${extra}
  sources: {
    src: {
      kind: 'code',
      async *pull({ cursor, signal }) {
        for (let b = cursor ?? 0; b < ${BATCHES}; b++) {
          if (signal.aborted) return
          await new Promise((r) => setTimeout(r, 40))
          yield { records: Array.from({ length: 100 }, (_, i) => ({ resource: 'events', data: { id: b * 100 + i + 1, at: '2026-11-20T10:00:00Z' } })), cursor: b + 1 }
        }
      },
    },
  },
  tables: { 'src.events': { eventTime: 'at' } },
  landing: { maxRecords: 1000, maxAge: '500ms' },
  run: { retries: 2, retryDelay: '200ms', grace: '3s', jobs: { src: { schedule: 'rate(1 second)' } } },
}
`,
  )
  return dir
}

/** Raw lines and trusted rows: every id of 1..N, each once. */
async function expectExactlyOnce(dir: string, env: Record<string, string> = {}) {
  const q = async (sql: string) => {
    const r = await weir(['query', sql, '-f', 'json'], env, dir)
    expect(r.code, r.stderr).toBe(0)
    return JSON.parse(r.stdout) as Record<string, number>[]
  }
  const all = { n: N, d: N, lo: 1, hi: N }
  expect(
    await q(
      'select count(*) as n, count(distinct id) as d, min(id) as lo, max(id) as hi from raw.src_events',
    ),
  ).toEqual([all])
  expect(
    await q(
      'select count(*) as n, count(distinct id) as d, min(id) as lo, max(id) as hi from trusted.src_events',
    ),
  ).toEqual([all])
}

/** The newest raw data file's time, read off the disk. */
async function newestRaw(lake: string): Promise<number> {
  let newest = 0
  for (const e of await readdir(join(lake, 'raw'), { recursive: true, withFileTypes: true }).catch(
    () => [],
  )) {
    if (e.isFile() && e.name.endsWith('.ndjson') && !e.name.startsWith('_'))
      newest = Math.max(newest, (await stat(join(e.parentPath, e.name))).mtimeMs)
  }
  return newest
}

const disks: SmallDisk[] = []
afterAll(async () => {
  for (const d of disks) await d.unmount()
})

describe('weir run while storage fails', () => {
  it('a disk that fills and is freed: nothing acknowledged is lost or cut, nothing doubled, landing resumes', async () => {
    const disk = await smallDisk(48 * 1024 * 1024)
    if (!disk) return
    disks.push(disk)
    const lake = join(disk.dir, 'lake')
    const dir = await project(lake)
    const w = startWeir(['run'], dir)
    await sleep(2_500)
    await disk.fill()
    await sleep(2_000)
    // A command that opens the stream while the disk is full must not cut what was acknowledged.
    await weir(['status'], {}, dir)
    await sleep(3_000)
    const freed = Date.now()
    await disk.free()
    await sleep(7_000)
    expect(await newestRaw(lake)).toBeGreaterThan(freed)
    w.stop()
    const r = await w.done
    expect(r.code, r.stderr).toBe(0)
    // The fault was met: some stage reported the full disk and was retried or restarted.
    expect(r.stdout).toMatch(/disk full|ENOSPC/)
    const once = await weir(['run', '--once'], {}, dir)
    expect(once.code, once.stderr).toBe(0)
    await expectExactlyOnce(dir)
  }, 90_000)

  it('a lake made read-only for 20 s: the run survives and lands everything once afterwards', async () => {
    const disk = await smallDisk(48 * 1024 * 1024)
    if (!disk) return
    disks.push(disk)
    const lake = join(disk.dir, 'lake')
    // The stream elsewhere: Linux refuses to make a file system read-only while a file on it is open
    // for writing, and the embedded log keeps its segment open.
    const dir = await project(
      lake,
      `\n  stream: { kind: 'embedded', dir: ${JSON.stringify(join(await tempDir('weir-stream-'), 's'))} },`,
    )
    const w = startWeir(['run'], dir)
    await sleep(2_500)
    await disk.readOnly(true)
    await sleep(20_000)
    await disk.readOnly(false)
    const back = Date.now()
    await sleep(6_000)
    expect(await newestRaw(lake)).toBeGreaterThan(back)
    w.stop()
    const r = await w.done
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/read-only file system|EROFS/)
    const once = await weir(['run', '--once'], {}, dir)
    expect(once.code, once.stderr).toBe(0)
    await expectExactlyOnce(dir)
  }, 90_000)

  it('an S3 that answers a fifth of requests with 500, 503 or nothing: the run survives, nothing is lost', async () => {
    const s3 = await startS3()
    if (!s3) return
    const proxy = await startFaultProxy(s3.endpoint)
    try {
      const env = { ...s3Env(s3), AWS_ENDPOINT_URL: proxy.url }
      const dir = await project(
        `s3://${s3.bucket}/lake`,
        `\n  storage: { s3: { timeout: '2s', attempts: 3 } },`,
      )
      proxy.setRate(0.2)
      const w = startWeir(['run'], dir, env)
      await sleep(12_000)
      proxy.setRate(0)
      await sleep(6_000)
      w.stop()
      const r = await w.done
      expect(r.code, r.stderr).toBe(0)
      expect(proxy.counts.failed + proxy.counts.hung).toBeGreaterThan(10)
      const once = await weir(['run', '--once'], env, dir)
      expect(once.code, once.stderr).toBe(0)
      await expectExactlyOnce(dir, env)
    } finally {
      await proxy.close()
      await s3.stop()
    }
  }, 120_000)
})
