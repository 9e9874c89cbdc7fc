import { describe, expect, it } from 'vitest'
import type { Consumer, Delivery, Stream } from '../../src/stream/stream.js'

const text = (v: Uint8Array) => Buffer.from(v).toString()
const rec = (s: string, key?: string) => ({
  value: Buffer.from(s),
  headers: { resource: 'r' },
  ...(key ? { key } : {}),
})

async function drain(c: Consumer, max = 1_000): Promise<Delivery[]> {
  const out: Delivery[] = []
  for (let b = await c.poll({ maxRecords: max }); b.length; b = await c.poll({ maxRecords: max }))
    out.push(...b)
  return out
}

export interface StreamHarness {
  readonly stream: Stream
  /** A new connection to the same log or server, as after a restart. */
  reopen(): Promise<Stream>
  /** A topic name no other test uses. */
  readonly topic: string
}

/** The stream contract every adapter must pass (embedded in every run; servers in integration runs). */
export function streamContract(name: string, open: () => Promise<StreamHarness>) {
  describe(`stream contract: ${name}`, () => {
    it('publish returns increasing positions; records come back in order with key and headers', async () => {
      const { stream, topic } = await open()
      const first = await stream.publish(topic, [rec('a', 'k1'), rec('b')])
      const second = await stream.publish(topic, [rec('c', 'k1')])
      expect(first[1]! - first[0]!).toBe(1)
      expect(second[0]).toBe(first[1]! + 1)
      const got = await drain(await stream.consumer('g', [topic]))
      expect(got.map((d) => [d.offset, text(d.value), d.key, d.headers.resource])).toEqual([
        [first[0], 'a', 'k1', 'r'],
        [first[1], 'b', undefined, 'r'],
        [second[0], 'c', 'k1', 'r'],
      ])
      await stream.close()
    })

    it('N records: two groups each receive all N, in order per key', async () => {
      const { stream, topic } = await open()
      const n = 500
      const keys = ['a', 'b', 'c']
      await stream.publish(
        topic,
        Array.from({ length: n }, (_, i) => rec(String(i), keys[i % 3])),
      )
      for (const group of ['landing', 'alerts']) {
        const c = await stream.consumer(group, [topic])
        const got = await drain(c, 64)
        expect(got).toHaveLength(n)
        for (const k of keys) {
          const seq = got.filter((d) => d.key === k).map((d) => Number(text(d.value)))
          expect(seq).toEqual([...seq].sort((x, y) => x - y))
        }
        await c.commit(c.position())
        await c.close()
      }
      await stream.close()
    })

    it('after a restart a group resumes after its last commit; uncommitted records come again; committed ones never', async () => {
      const { stream, reopen, topic } = await open()
      await stream.publish(
        topic,
        ['1', '2', '3', '4', '5'].map((s) => rec(s)),
      )
      const c = await stream.consumer('g', [topic])
      expect((await c.poll({ maxRecords: 2 })).map((d) => text(d.value))).toEqual(['1', '2'])
      await c.commit(c.position())
      expect((await c.poll({ maxRecords: 2 })).map((d) => text(d.value))).toEqual(['3', '4']) // not committed
      await c.close()
      await stream.close()

      const again = await reopen()
      const c2 = await again.consumer('g', [topic])
      const got = await drain(c2)
      expect(got.map((d) => text(d.value))).toEqual(['3', '4', '5'])
      await c2.commit(c2.position())
      await c2.close()
      const c3 = await again.consumer('g', [topic])
      expect(await drain(c3)).toEqual([]) // nothing twice after a clean commit
      await again.publish(topic, [rec('6')])
      expect((await drain(c3)).map((d) => text(d.value))).toEqual(['6'])
      await c3.close()
      await again.close()
    })

    it('a new group can start at the earliest, the latest, or a position', async () => {
      const { stream, topic } = await open()
      const offsets = await stream.publish(
        topic,
        ['a', 'b', 'c'].map((s) => rec(s)),
      )
      const from = async (group: string, start: Parameters<Stream['consumer']>[2]) =>
        (await drain(await stream.consumer(group, [topic], start))).map((d) => text(d.value))
      expect(await from('e', { start: 'earliest' })).toEqual(['a', 'b', 'c'])
      const latest = await stream.consumer('l', [topic], { start: 'latest' })
      expect(await drain(latest)).toEqual([])
      await stream.publish(topic, [rec('d')])
      expect((await drain(latest)).map((d) => text(d.value))).toEqual(['d'])
      expect(await from('p', { start: { offset: offsets[1]! } })).toEqual(['b', 'c', 'd'])
      await stream.close()
    })

    it('reports lag per topic and per group (weir status): published but not committed', async () => {
      const { stream, topic } = await open()
      await stream.publish(
        topic,
        ['a', 'b', 'c'].map((s) => rec(s)),
      )
      const c = await stream.consumer('g', [topic])
      expect(await c.lag()).toEqual({ [topic]: 3 })
      await c.poll({ maxRecords: 2 })
      await c.commit(c.position())
      expect(await c.lag()).toEqual({ [topic]: 1 })
      const [status] = (await stream.groups()).filter((g) => g.topic === topic && g.group === 'g')
      expect(status).toMatchObject({ topic, group: 'g', lag: 1 })
      expect(status!.end - status!.committed).toBe(1)
      await c.close()
      await stream.close()
    })
  })
}
