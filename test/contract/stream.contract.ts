import { describe, expect, it } from 'vitest'
import type { Stream } from '../../src/stream/stream.js'

const rec = (s: string, resource = 'r') => ({ value: Buffer.from(s), headers: { resource }, key: s })
const text = (v: Uint8Array) => Buffer.from(v).toString()

/** The stream contract every adapter must pass. `reopen` simulates a restart on the same storage. */
export function streamContract(
  name: string,
  open: () => Promise<{ stream: Stream; reopen: () => Promise<Stream> }>,
) {
  describe(`stream contract: ${name}`, () => {
    it('returns increasing offsets and delivers records in order with their headers', async () => {
      const { stream } = await open()
      expect(await stream.publish('t', [rec('a'), rec('b')])).toEqual([0, 1])
      expect(await stream.publish('t', [rec('c', 'other')])).toEqual([2])
      const c = await stream.consumer('g', ['t'])
      const got = await c.poll({ maxRecords: 10 })
      expect(got.map((d) => [d.offset, text(d.value), d.headers.resource, d.key])).toEqual([
        [0, 'a', 'r', 'a'],
        [1, 'b', 'r', 'b'],
        [2, 'c', 'other', 'c'],
      ])
      expect(await c.poll({ maxRecords: 10 })).toEqual([])
      await stream.close()
    })

    it('gives every consumer group every record, each at its own pace', async () => {
      const { stream } = await open()
      await stream.publish('t', [rec('1'), rec('2'), rec('3')])
      const a = await stream.consumer('a', ['t'])
      const b = await stream.consumer('b', ['t'])
      expect((await a.poll({ maxRecords: 2 })).map((d) => text(d.value))).toEqual(['1', '2'])
      expect((await b.poll({ maxRecords: 5 })).map((d) => text(d.value))).toEqual(['1', '2', '3'])
      expect((await a.poll({ maxRecords: 5 })).map((d) => text(d.value))).toEqual(['3'])
      await stream.close()
    })

    it('replays from the last commit after a restart, never from where polling stopped', async () => {
      const { stream, reopen } = await open()
      await stream.publish('t', [rec('1'), rec('2'), rec('3'), rec('4')])
      const c = await stream.consumer('g', ['t'])
      await c.poll({ maxRecords: 2 })
      await c.commit(c.position())
      await c.poll({ maxRecords: 2 }) // polled, not committed: must come again
      expect(await c.lag()).toEqual({ t: 2 })
      await stream.close()
      const again = await reopen()
      const c2 = await again.consumer('g', ['t'])
      expect((await c2.poll({ maxRecords: 10 })).map((d) => text(d.value))).toEqual(['3', '4'])
      expect(await again.publish('t', [rec('5')])).toEqual([4]) // offsets continue after restart
      await again.close()
    })
  })
}
