import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { createNatsStream } from '../../src/stream/nats/nats-stream.js'
import { streamContract } from '../contract/stream.contract.js'
import { serviceUp } from '../helpers/services.js'

const URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'

const up = await serviceUp('NATS', URL, 4222, 'NATS stream tests')

// Every test gets its own prefix, so its streams never meet another run's; they are deleted after.
const prefixes: string[] = []
afterAll(async () => {
  if (!up) return
  const { connect: natsConnect } = await import('@nats-io/transport-node')
  const { jetstreamManager } = await import('@nats-io/jetstream')
  const nc = await natsConnect({ servers: URL })
  const jsm = await jetstreamManager(nc)
  for await (const s of jsm.streams.list()) {
    if (prefixes.some((p) => s.config.name.startsWith(`${p}_`))) await jsm.streams.delete(s.config.name)
  }
  await nc.drain()
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
