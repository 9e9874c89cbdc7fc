import { appendFile, readFile, stat, truncate } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createEmbeddedStream } from '../../src/stream/embedded/embedded-stream.js'
import { streamContract } from '../contract/stream.contract.js'
import { tempDir } from '../helpers/services.js'

streamContract('embedded', async () => {
  const dir = await tempDir('weir-stream-')
  return { stream: await createEmbeddedStream(dir), reopen: () => createEmbeddedStream(dir), topic: 't' }
})

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
    const log = join(dir, 't.log')
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
    expect((await stat(log)).size).toBe(intact)
    expect(await s3.publish('t', [{ value: value(9) }])).toEqual([3])
    await s3.close()
  })

  it('stops at a frame whose checksum does not match (garbage after the last good record)', async () => {
    const dir = await tempDir('weir-stream-')
    const s = await createEmbeddedStream(dir)
    await s.publish('t', [{ value: value(0) }, { value: value(1) }])
    await s.close()
    const log = join(dir, 't.log')
    const good = await readFile(log)
    // A frame header claiming 16 bytes followed by 16 bytes that do not match its checksum.
    await appendFile(log, Buffer.concat([Buffer.from([0, 0, 0, 16, 1, 2, 3, 4]), Buffer.alloc(16, 0xff)]))
    const s2 = await createEmbeddedStream(dir)
    const got = await (await s2.consumer('g', ['t'])).poll({ maxRecords: 10 })
    expect(got).toHaveLength(2)
    expect(await readFile(log)).toEqual(good)
    await s2.close()
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
        expect(d.offset).toBe(seen)
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
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, p) =>
        s.publish(
          't',
          [0, 1, 2].map((k) => ({ value: Buffer.from(`${p}:${k}`) })),
        ),
      ),
    )
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
