import { describe, expect, it } from 'vitest'
import { type Consumer, compareOffsets, type Delivery, type Stream } from '../../src/stream/stream.js'

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

const increasing = (offsets: readonly string[]) =>
  offsets.every((o, i) => i === 0 || compareOffsets(offsets[i - 1]!, o) < 0)

export interface StreamHarness {
  readonly stream: Stream
  /** A new connection to the same log or server, as after a restart. */
  reopen(): Promise<Stream>
  /** A topic name no other test uses. */
  readonly topic: string
  /** Partitions each new topic gets; the contract is run with several, to check order per key across them. */
  readonly partitions: number
  /** Whether `groups()` counts lag in records (Kinesis reports how far behind in time instead). */
  readonly countsLag: boolean
  /** False where the server cannot start a group at a time on every partition (see the Kinesis test). */
  readonly startsAtTime?: boolean
}

/** The stream contract every adapter must pass (embedded in every run; servers in integration runs). */
export function streamContract(name: string, open: () => Promise<StreamHarness>) {
  describe(`stream contract: ${name}`, () => {
    it('publish returns increasing positions per partition; records come back in order with key and headers', async () => {
      const { stream, topic } = await open()
      const first = await stream.publish(topic, [rec('a', 'k1'), rec('b', 'k1')])
      const second = await stream.publish(topic, [rec('c', 'k1')])
      const keyless = await stream.publish(topic, [rec('x'), rec('y')])
      const k1 = [...first, ...second]
      expect(new Set(k1.map((p) => p.partition)).size).toBe(1)
      expect(increasing(k1.map((p) => p.offset))).toBe(true)
      // A keyless publish goes whole to one partition, in order.
      expect(keyless[0]!.partition).toBe(keyless[1]!.partition)
      expect(increasing(keyless.map((p) => p.offset))).toBe(true)

      const got = await drain(await stream.consumer('g', [topic]))
      const of = (p: string) =>
        got.filter((d) => d.partition === p).map((d) => [d.offset, text(d.value), d.key, d.headers.resource])
      expect(of(k1[0]!.partition).filter((r) => r[2] === 'k1')).toEqual([
        [first[0]!.offset, 'a', 'k1', 'r'],
        [first[1]!.offset, 'b', 'k1', 'r'],
        [second[0]!.offset, 'c', 'k1', 'r'],
      ])
      expect(of(keyless[0]!.partition).filter((r) => r[2] === undefined)).toEqual([
        [keyless[0]!.offset, 'x', undefined, 'r'],
        [keyless[1]!.offset, 'y', undefined, 'r'],
      ])
      expect(got).toHaveLength(5)
      await stream.close()
    })

    it('N records: two groups each receive all N, in order per key, each key in one partition', async () => {
      const { stream, topic, partitions } = await open()
      const n = 600
      const keys = ['a', 'b', 'c', 'd', 'e', 'f']
      const at = await stream.publish(
        topic,
        Array.from({ length: n }, (_, i) => rec(String(i), keys[i % keys.length])),
      )
      if (partitions > 1) expect(new Set(at.map((p) => p.partition)).size).toBeGreaterThan(1)
      for (const group of ['landing', 'alerts']) {
        const c = await stream.consumer(group, [topic])
        const got = await drain(c, 64)
        expect(got).toHaveLength(n)
        expect(new Set(got.map((d) => text(d.value))).size).toBe(n)
        for (const k of keys) {
          const mine = got.filter((d) => d.key === k)
          expect(new Set(mine.map((d) => d.partition)).size).toBe(1)
          const seq = mine.map((d) => Number(text(d.value)))
          expect(seq).toEqual([...seq].sort((x, y) => x - y))
          expect(increasing(mine.map((d) => d.offset))).toBe(true)
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
        ['1', '2', '3', '4', '5'].map((s) => rec(s, 'k')),
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
      await again.publish(topic, [rec('6', 'k'), rec('7', 'other')])
      expect((await drain(c3)).map((d) => text(d.value)).sort()).toEqual(['6', '7'])
      await c3.close()
      await again.close()
    })

    it('a new group can start at the earliest, the latest, a position or a time', async () => {
      const { stream, topic, startsAtTime = true } = await open()
      const at = await stream.publish(
        topic,
        ['a', 'b', 'c'].map((s) => rec(s, 'k')),
      )
      const from = async (group: string, start: Parameters<Stream['consumer']>[2]) =>
        (await drain(await stream.consumer(group, [topic], start))).map((d) => text(d.value))
      expect(await from('e', { start: 'earliest' })).toEqual(['a', 'b', 'c'])
      const latest = await stream.consumer('l', [topic], { start: 'latest' })
      expect(await drain(latest)).toEqual([])
      await new Promise((r) => setTimeout(r, 1_100))
      const time = Date.now()
      await stream.publish(topic, [rec('d', 'k')])
      expect((await drain(latest)).map((d) => text(d.value))).toEqual(['d'])
      expect(await from('p', { start: { from: [at[1]!] } })).toEqual(['b', 'c', 'd'])
      if (startsAtTime) expect(await from('t', { start: { time: time - 200 } })).toEqual(['d'])
      await stream.close()
    })

    it('reads back what was published since a time, every partition, without a group', async () => {
      const { stream, topic } = await open()
      await stream.publish(topic, [rec('old', 'k1')])
      await new Promise((r) => setTimeout(r, 1_100))
      const time = Date.now()
      // Thirty keys: every partition gets records after the time (kinesalite answers AT_TIMESTAMP only then).
      const values = Array.from({ length: 30 }, (_, i) => `v${String(i).padStart(2, '0')}`)
      await stream.publish(
        topic,
        values.map((v) => rec(v, v)),
      )
      const got: Delivery[] = []
      for await (const page of stream.readSince(topic, time - 200)) got.push(...page)
      // Remote streams start earlier (clock skew): what matters is that nothing since is missed.
      expect(
        got
          .map((d) => text(d.value))
          .filter((v) => v !== 'old')
          .sort(),
      ).toEqual(values)
      for (const p of new Set(got.map((d) => d.partition)))
        expect(increasing(got.filter((d) => d.partition === p).map((d) => d.offset))).toBe(true)
      // No group was made or moved.
      expect((await stream.groups()).filter((g) => g.topic === topic)).toEqual([])
      await stream.close()
    })

    it('reports each group position and lag per partition (weir status)', async () => {
      const { stream, topic, countsLag } = await open()
      await stream.publish(
        topic,
        ['a', 'b', 'c'].map((s) => rec(s, 'k')),
      )
      const c = await stream.consumer('g', [topic])
      const polled = await c.poll({ maxRecords: 2 })
      await c.commit(c.position())
      const mine = (await stream.groups()).filter((g) => g.topic === topic && g.group === 'g')
      const p = mine.find((g) => g.partition === polled[0]!.partition)!
      expect(p.committed).toBe(polled[1]!.offset)
      if (countsLag) {
        expect(mine.reduce((n, g) => n + (g.lag ?? 0), 0)).toBe(1)
        expect(p.end && compareOffsets(p.end, p.committed!)).toBeGreaterThan(0)
      } else {
        expect(p.behindMs).toBeGreaterThanOrEqual(0)
      }
      await c.commit(c.position())
      await drain(c)
      await c.commit(c.position())
      const after = (await stream.groups()).filter((g) => g.topic === topic && g.group === 'g')
      expect(after.every((g) => g.lag === 0 || (!countsLag && g.lag === undefined))).toBe(true)
      await c.close()
      await stream.close()
    })
  })
}
