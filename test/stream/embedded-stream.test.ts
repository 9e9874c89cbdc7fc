import { appendFile, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createEmbeddedStream } from '../../src/stream/embedded/embedded-stream.js'
import { streamContract } from '../contract/stream.contract.js'
import { tempDir } from '../helpers/services.js'
import { smallDisk } from '../helpers/tmpfs.js'

streamContract('embedded (3 partitions)', async () => {
  const dir = await tempDir('weir-stream-')
  const open = () => createEmbeddedStream(dir, { partitions: 3 })
  return { stream: await open(), reopen: open, topic: 't', partitions: 3, countsLag: true }
})

const offsets = (at: readonly { offset: string }[]) => at.map((p) => Number(p.offset))

describe('embedded stream after a crash', () => {
  const value = (i: number) => Buffer.from(JSON.stringify({ i, pad: 'x'.repeat(50) }))

  it('cuts a torn tail (a frame half written) and keeps every acknowledged record', async () => {
    const dir = await tempDir('weir-stream-')
    const s = await createEmbeddedStream(dir)
    await s.publish(
      't',
      [0, 1, 2].map((i) => ({ value: value(i) })),
    )
    await s.close()
    const log = join(dir, 't', '0', '00000000000000000000.log')
    const intact = (await stat(log)).size
    // A crash in the middle of appending a fourth record: only part of its frame reached the disk.
    const s2 = await createEmbeddedStream(dir)
    await s2.publish('t', [{ value: value(3) }])
    await s2.close()
    await truncate(log, intact + 20)
    const s3 = await createEmbeddedStream(dir)
    const c = await s3.consumer('g', ['t'])
    const got = await c.poll({ maxRecords: 10 })
    expect(got.map((d) => JSON.parse(Buffer.from(d.value).toString()).i)).toEqual([0, 1, 2])
    // Reading cuts nothing: another process may be about to acknowledge those bytes.
    expect((await stat(log)).size).toBe(intact + 20)
    // The writer cuts the torn tail before its first append.
    expect(await s3.publish('t', [{ value: value(9) }])).toEqual([{ partition: '0', offset: '3' }])
    await s3.close()
    const s4 = await createEmbeddedStream(dir)
    const all = await (await s4.consumer('g2', ['t'])).poll({ maxRecords: 10 })
    expect(all.map((d) => JSON.parse(Buffer.from(d.value).toString()).i)).toEqual([0, 1, 2, 9])
    await s4.close()
  })

  it('stops at a frame whose checksum does not match (garbage after the last good record)', async () => {
    const dir = await tempDir('weir-stream-')
    const s = await createEmbeddedStream(dir)
    await s.publish('t', [{ value: value(0) }, { value: value(1) }])
    await s.close()
    const log = join(dir, 't', '0', '00000000000000000000.log')
    const good = await readFile(log)
    // A frame header claiming 16 bytes followed by 16 bytes that do not match its checksum.
    await appendFile(log, Buffer.concat([Buffer.from([0, 0, 0, 16, 1, 2, 3, 4]), Buffer.alloc(16, 0xff)]))
    const s2 = await createEmbeddedStream(dir)
    const got = await (await s2.consumer('g', ['t'])).poll({ maxRecords: 10 })
    expect(got).toHaveLength(2)
    await s2.publish('t', [{ value: value(2) }])
    expect((await readFile(log)).subarray(0, good.length)).toEqual(good)
    await s2.close()
    const s3 = await createEmbeddedStream(dir)
    expect(await (await s3.consumer('g2', ['t'])).poll({ maxRecords: 10 })).toHaveLength(3)
    await s3.close()
  })

  it('indexes past 65,536 records (chunk boundary) and reopens with the same offsets', async () => {
    const dir = await tempDir('weir-stream-')
    const s = await createEmbeddedStream(dir)
    const n = 70_000
    for (let i = 0; i < n; i += 10_000) {
      await s.publish(
        't',
        Array.from({ length: 10_000 }, (_, k) => ({ value: Buffer.from(String(i + k)) })),
      )
    }
    await s.close()
    const s2 = await createEmbeddedStream(dir)
    const c = await s2.consumer('g', ['t'])
    let seen = 0
    for (
      let batch = await c.poll({ maxRecords: 9_999 });
      batch.length;
      batch = await c.poll({ maxRecords: 9_999 })
    ) {
      for (const d of batch) {
        expect(d.offset).toBe(String(seen))
        expect(Buffer.from(d.value).toString()).toBe(String(seen))
        seen++
      }
    }
    expect(seen).toBe(n)
    await s2.close()
  })
})

describe('embedded stream group commit', () => {
  it('concurrent publishes share writes, keep their own offsets, and are all durable', async () => {
    const dir = await tempDir('weir-stream-')
    const s = await createEmbeddedStream(dir)
    const results = (
      await Promise.all(
        Array.from({ length: 50 }, (_, p) =>
          s.publish(
            't',
            [0, 1, 2].map((k) => ({ value: Buffer.from(`${p}:${k}`) })),
          ),
        ),
      )
    ).map(offsets)
    // Each publisher's records are contiguous and in its own order.
    for (const offsets of results) expect(offsets).toEqual([offsets[0]!, offsets[0]! + 1, offsets[0]! + 2])
    expect(new Set(results.flat()).size).toBe(150)
    await s.close()
    const again = await createEmbeddedStream(dir)
    const c = await again.consumer('g', ['t'])
    const got = await c.poll({ maxRecords: 1_000 })
    for (const [p, offsets] of results.entries()) {
      expect(offsets.map((o) => Buffer.from(got[o]!.value).toString())).toEqual([
        `${p}:0`,
        `${p}:1`,
        `${p}:2`,
      ])
    }
    await again.close()
  })
})

describe('embedded stream readers during writes', () => {
  it('a consumer polling while publishes are being written sees only whole, durable records', async () => {
    const dir = await tempDir('weir-rw-')
    const s = await createEmbeddedStream(dir)
    const c = await s.consumer('g', ['t'])
    const got: string[] = []
    let publishing = true
    const reader = (async () => {
      while (publishing || got.length < 2_000) {
        for (const d of await c.poll({ maxRecords: 50 })) got.push(Buffer.from(d.value).toString())
        await new Promise((r) => setImmediate(r))
      }
    })()
    for (let p = 0; p < 20; p++) {
      await Promise.all(
        Array.from({ length: 4 }, (_, k) =>
          s.publish(
            't',
            Array.from({ length: 25 }, (_, i) => ({
              value: Buffer.from(`${p}-${k}-${i}-${'x'.repeat(200)}`),
            })),
          ),
        ),
      )
    }
    publishing = false
    await reader
    expect(got).toHaveLength(2_000)
    expect(new Set(got).size).toBe(2_000)
    await s.close()
  })
})

describe('embedded stream segments and retention', () => {
  const rec = (i: number, timestamp?: number) => ({
    value: Buffer.from(`${i}:${'x'.repeat(200)}`),
    ...(timestamp ? { timestamp } : {}),
  })
  const read = async (s: Awaited<ReturnType<typeof createEmbeddedStream>>, group: string) => {
    const c = await s.consumer(group, ['t'])
    const out: number[] = []
    for (let b = await c.poll({ maxRecords: 333 }); b.length; b = await c.poll({ maxRecords: 333 })) {
      for (const d of b) {
        expect(Buffer.from(d.value).toString().split(':')[0]).toBe(d.offset) // offset = value here
        out.push(Number(d.offset))
      }
    }
    await c.commit(c.position())
    return out
  }

  it('rolls segments by size and reads across them, before and after a restart', async () => {
    const dir = await tempDir('weir-seg-')
    const s = await createEmbeddedStream(dir, { segmentBytes: 10_000 })
    for (let i = 0; i < 1_000; i += 50)
      await s.publish(
        't',
        Array.from({ length: 50 }, (_, k) => rec(i + k)),
      )
    const files = (await readdir(join(dir, 't', '0'))).filter((f) => f.endsWith('.log'))
    expect(files.length).toBeGreaterThan(10)
    expect(await read(s, 'a')).toEqual(Array.from({ length: 1_000 }, (_, i) => i))
    await s.close()
    const again = await createEmbeddedStream(dir, { segmentBytes: 10_000 })
    expect(await read(again, 'b')).toEqual(Array.from({ length: 1_000 }, (_, i) => i))
    expect(offsets(await again.publish('t', [rec(1_000)]))).toEqual([1_000])
    await again.close()
  })

  it('drops the oldest segments beyond maxBytes; a group behind them goes on from the oldest kept', async () => {
    const dir = await tempDir('weir-seg-')
    const s = await createEmbeddedStream(dir, { segmentBytes: 10_000, retention: { maxBytes: 30_000 } })
    const behind = await s.consumer('behind', ['t'])
    for (let i = 0; i < 1_000; i += 50)
      await s.publish(
        't',
        Array.from({ length: 50 }, (_, k) => rec(i + k)),
      )
    const files = (await readdir(join(dir, 't', '0'))).filter((f) => f.endsWith('.log'))
    expect(files.length).toBeLessThanOrEqual(4)
    const kept = await read(s, 'late')
    expect(kept.at(-1)).toBe(999)
    expect(kept[0]).toBeGreaterThan(0)
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => kept[0]! + i)) // no gap in what is kept
    expect((await behind.poll({ maxRecords: 1 }))[0]!.offset).toBe(String(kept[0]))
    await behind.commit(behind.position())
    expect((await s.groups()).find((g) => g.group === 'behind')!.lag).toBe(kept.length - 1)
    await s.close()
  })

  it('drops segments whose records are all older than maxAge', async () => {
    const dir = await tempDir('weir-seg-')
    const s = await createEmbeddedStream(dir, { segmentBytes: 5_000, retention: { maxAgeMs: 3_600_000 } })
    const old = Date.now() - 2 * 3_600_000
    for (let i = 0; i < 100; i += 20)
      await s.publish(
        't',
        Array.from({ length: 20 }, (_, k) => rec(i + k, old)),
      )
    for (let i = 100; i < 200; i += 20)
      await s.publish(
        't',
        Array.from({ length: 20 }, (_, k) => rec(i + k)),
      )
    const kept = await read(s, 'g')
    expect(kept[0]).toBeGreaterThanOrEqual(80) // only the new records' segments (and at most one straddling) remain
    expect(kept.at(-1)).toBe(199)
    await s.close()
  })
})

describe('embedded stream backpressure', () => {
  it('makes publishers wait when more than maxQueuedBytes are waiting to be written', async () => {
    const dir = await tempDir('weir-bp-')
    const { TopicLog } = await import('../../src/stream/embedded/topic-log.js')
    const log = await TopicLog.open(join(dir, 't'), { segmentBytes: 1 << 30, maxQueuedBytes: 100_000 })
    const { encode } = await import('../../src/stream/embedded/frame.js')
    const batch = encode(
      Array.from({ length: 100 }, () => ({ value: Buffer.alloc(500, 1) })),
      Date.now(),
    )
    let peak = 0
    const publishes = Array.from({ length: 40 }, async () => {
      const p = log.append(batch.buf, batch.positions, batch.lastTs)
      peak = Math.max(peak, log.pendingBytes)
      return p
    })
    const offsets = (await Promise.all(publishes)).flat()
    expect(new Set(offsets).size).toBe(4_000) // every record written once
    expect(peak).toBeLessThanOrEqual(100_000 + batch.buf.length) // never more than the limit (plus one batch)
    expect(log.pendingBytes).toBe(0)
    await log.close()
  })
})

describe('embedded stream on a disk that fills', () => {
  it('never acknowledges a short write, keeps every acknowledged record, and resumes once space is freed', async () => {
    const disk = await smallDisk(2 * 1024 * 1024)
    if (!disk) return
    try {
      const dir = join(disk.dir, 'stream')
      // Room to free later: a megabyte of ballast.
      await writeFile(join(disk.dir, 'ballast'), Buffer.alloc(1024 * 1024))
      const s = await createEmbeddedStream(dir)
      const batch = (b: number) =>
        Array.from({ length: 100 }, (_, i) => ({ value: Buffer.from(`${b}:${i}:${'x'.repeat(1_000)}`) }))
      const acked: number[] = []
      let failures = 0
      // ~100 KB a batch on a 2 MB disk: it fills part-way through a write.
      for (let b = 0; b < 20; b++) {
        try {
          await s.publish('t', batch(b))
          acked.push(b)
        } catch (err) {
          failures++
          expect((err as Error).message).toMatch(/disk full|ENOSPC/)
        }
      }
      expect(failures).toBeGreaterThan(0)
      // A reader in another process must not cut anything: reopen while the writer still holds it.
      const reader = await createEmbeddedStream(dir)
      const seen = await (await reader.consumer('r', ['t'])).poll({ maxRecords: 10_000 })
      expect(new Set(seen.map((d) => Buffer.from(d.value).toString().split(':')[0]))).toEqual(
        new Set(acked.map(String)),
      )
      await reader.close()
      await disk.free()
      await s.publish('t', batch(99))
      await s.close()
      const again = await createEmbeddedStream(dir)
      const all = await (await again.consumer('g', ['t'])).poll({ maxRecords: 10_000 })
      const batches = all.map((d) => Number(Buffer.from(d.value).toString().split(':')[0]))
      expect(batches).toEqual([...acked, 99].flatMap((b) => Array.from({ length: 100 }, () => b)))
      await again.close()
    } finally {
      await disk.unmount()
    }
  })

  it('lets one process write at a time, and takes over from one that died', async () => {
    const dir = await tempDir('weir-lock-')
    const a = await createEmbeddedStream(dir)
    await a.publish('t', [{ value: Buffer.from('a') }])
    expect(JSON.parse(await readFile(join(dir, '_writer.json'), 'utf8'))).toMatchObject({ pid: process.pid })
    await a.close()
    await expect(stat(join(dir, '_writer.json'))).rejects.toThrow()
    // A lock left by a process that is gone (kill -9) is taken over at once.
    await writeFile(
      join(dir, '_writer.json'),
      JSON.stringify({ host: hostname(), pid: 2 ** 22 + 7, started: Date.now() - 60_000 }),
    )
    const c = await createEmbeddedStream(dir)
    await c.publish('t', [{ value: Buffer.from('c') }])
    await c.close()
    // A process that may be alive (another host's) keeps it, and the error says who holds it.
    await writeFile(join(dir, '_writer.json'), JSON.stringify({ host: 'elsewhere', pid: 1, started: 0 }))
    const d = await createEmbeddedStream(dir)
    await expect(d.publish('t', [{ value: Buffer.from('d') }])).rejects.toThrow(
      /another process writes to this embedded stream \(pid 1 on elsewhere/,
    )
    await d.close()
    const e = await createEmbeddedStream(dir)
    expect((await (await e.consumer('g', ['t'])).poll({ maxRecords: 10 })).map((x) => `${x.value}`)).toEqual([
      'a',
      'c',
    ])
    await e.close()
  })
})
