import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { sequenceOf, subOf } from '../../src/stream/envelope.js'
import { createNatsStream } from '../../src/stream/nats/nats-stream.js'
import type { Consumer, Delivery } from '../../src/stream/stream.js'
import { streamContract } from '../contract/stream.contract.js'
import { dropNatsStreams } from '../helpers/nats.js'
import { serviceUp } from '../helpers/services.js'

const URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'

const up = await serviceUp('NATS', URL, 4222, 'NATS stream tests')

// Every test gets its own prefix, so its streams never meet another run's; they are deleted after.
const prefixes: string[] = []
afterAll(async () => {
  if (up) await dropNatsStreams(URL, prefixes)
})

describe.skipIf(!up)('NATS JetStream', () => {
  streamContract('nats (3 partitions)', async () => {
    const prefix = `weirtest${randomBytes(4).toString('hex')}`
    prefixes.push(prefix)
    const open = () => createNatsStream({ url: URL, prefix, ackWait: '2s', partitions: 3 })
    return { stream: await open(), reopen: open, topic: 't', partitions: 3, countsLag: true }
  })
})

describe.skipIf(!up)('a pipeline on NATS', () => {
  it('ingests, lands and refines through JetStream', async () => {
    const { configSchema } = await import('../../src/config/schema.js')
    const { openPipeline } = await import('../../src/pipeline/pipeline.js')
    const { tempDir } = await import('../helpers/services.js')
    const prefix = `weirtest${randomBytes(4).toString('hex')}`
    prefixes.push(prefix)
    const dir = await tempDir('weir-nats-')
    const config = configSchema.parse({
      lake: `${dir}/lake`,
      stream: { kind: 'nats', url: URL, prefix },
      sources: { w: { kind: 'demo', dataset: 'weather', count: 120 } },
      tables: { 'w.realtime': { eventTime: 'data.time' } },
    })
    const p = await openPipeline({ config, file: undefined, dir })
    try {
      expect((await p.ingest()).records).toBe(120)
      expect((await p.land()).records).toBe(120)
      expect((await p.land()).records).toBe(0) // committed: nothing twice
      expect((await p.refine()).records).toBe(120)
      expect((await p.query('select count(*) as n from trusted.w_realtime')).rows).toEqual([{ n: 120 }])
    } finally {
      await p.close()
    }
  })
})

describe.skipIf(!up)('NATS records held by a consumer that is gone', () => {
  it('come at once to the next consumer of the group, and count as lag until committed', async () => {
    const prefix = `weirtest${randomBytes(4).toString('hex')}`
    prefixes.push(prefix)
    // A long ack wait: without the fix they would come back only after it.
    const open = () => createNatsStream({ url: URL, prefix, ackWait: '5m' })
    const a = await open()
    await a.publish(
      't',
      ['a', 'b', 'c', 'd'].map((v) => ({ value: Buffer.from(v) })),
    )
    const first = await a.consumer('g', ['t'])
    const took = await first.poll({ maxRecords: 10 })
    expect(took).toHaveLength(4)
    await first.commit({ t: { [took[0]!.partition]: took[0]!.offset } })
    // The process dies holding b, c, d: no nak, no close.
    expect((await a.groups()).find((g) => g.group === 'g')?.lag).toBe(3)
    const b = await open()
    const second = await b.consumer('g', ['t'])
    const again = await second.poll({ maxRecords: 10 })
    expect(again.map((d) => Buffer.from(d.value).toString())).toEqual(['b', 'c', 'd'])
    await second.commit(second.position())
    expect((await b.groups()).find((g) => g.group === 'g')?.lag).toBe(0)
    await b.close()
    await a.close()
  })
})

describe.skipIf(!up)('NATS batches of records', () => {
  const open = () => {
    const prefix = `weirtest${randomBytes(4).toString('hex')}`
    prefixes.push(prefix)
    return createNatsStream({ url: URL, prefix, ackWait: '5m' })
  }
  const all = async (c: Consumer) => {
    const out: Delivery[] = []
    for (let b = await c.poll({ maxRecords: 5_000 }); b.length; b = await c.poll({ maxRecords: 5_000 }))
      out.push(...b)
    return out
  }

  it('a publish is a message per thousand records; a record is its sequence and place', async () => {
    const s = await open()
    const at = await s.publish(
      't',
      Array.from({ length: 2_500 }, (_, i) => ({ key: 'k', value: Buffer.from(String(i)) })),
    )
    const messages = new Set(at.map((p) => sequenceOf(p.offset)))
    expect(messages.size).toBe(3)
    expect(at.slice(998, 1_001).map((p) => subOf(p.offset))).toEqual([998, 999, 0])
    const c = await s.consumer('g', ['t'])
    const got = await all(c)
    expect(got.map((d) => Buffer.from(d.value).toString())).toEqual(at.map((_, i) => String(i)))
    expect(got.map((d) => d.offset)).toEqual(at.map((p) => p.offset))
    await c.commit(c.position())
    await c.close()
    await s.close()
  })

  it('a backlog of batches larger than the server lets wait on a connection comes whole', async () => {
    // 80 messages of about 1 MB: asked for at once, the server would drop the connection as a
    // slow consumer and what it had sent would come again only after the ack wait (5 minutes).
    const s = await open()
    const value = Buffer.alloc(100_000, 120)
    for (let i = 0; i < 80; i++)
      await s.publish(
        't',
        Array.from({ length: 10 }, () => ({ value })),
      )
    const c = await s.consumer('g', ['t'])
    expect(await all(c)).toHaveLength(800)
    await c.commit(c.position())
    expect((await s.groups()).find((g) => g.group === 'g')?.lag).toBe(0)
    await c.close()
    await s.close()
  })

  it('counts lag in records, from where a group started when it has committed nothing', async () => {
    const s = await open()
    await s.publish(
      't',
      Array.from({ length: 7 }, () => ({ value: Buffer.from('old') })),
    )
    const late = await s.consumer('late', ['t'], { start: 'latest' })
    const early = await s.consumer('early', ['t'])
    await s.publish(
      't',
      Array.from({ length: 5 }, () => ({ value: Buffer.from('new') })),
    )
    await s.publish(
      't',
      Array.from({ length: 3 }, () => ({ value: Buffer.from('new') })),
    )
    const lag = async (g: string) => (await s.groups()).find((x) => x.group === g)?.lag
    expect(await lag('late')).toBe(8)
    expect(await lag('early')).toBe(15)
    await early.poll({ maxRecords: 9 })
    await early.commit(early.position())
    expect(await lag('early')).toBe(6)
    await late.close()
    await early.close()
    await s.close()
  })

  it("reads another producer's messages, a record each, with their headers", async () => {
    const s = await open()
    await s.publish('t', [{ value: Buffer.from('batched') }]) // makes the topic
    const { connect } = await import('@nats-io/transport-node')
    const nc = await connect({ servers: URL })
    const h = (await import('@nats-io/transport-node')).headers()
    h.set('weir-key', 'k1')
    h.set('source', 'elsewhere')
    const prefix = prefixes[prefixes.length - 1]
    await nc.request(`${prefix}.t.0`, Buffer.from('plain'), { headers: h, timeout: 5_000 })
    await nc.drain()
    const c = await s.consumer('g', ['t'])
    const got = await all(c)
    expect(got.map((d) => Buffer.from(d.value).toString())).toEqual(['batched', 'plain'])
    expect(got[1]).toMatchObject({ key: 'k1', headers: { source: 'elsewhere' } })
    expect(subOf(got[1]!.offset)).toBe(0)
    await c.close()
    await s.close()
  })

  it("refuses a record over the server's max_payload with a clear error", async () => {
    const s = await open()
    const err = await s.publish('t', [{ value: Buffer.alloc(2_000_000) }]).catch((e) => e)
    expect(err).toMatchObject({ code: 'STREAM_RECORD' })
    expect(String(err.message)).toMatch(/record 0 is \d+ bytes, over the \d+ a NATS message may hold/)
    await s.close()
  })
})
