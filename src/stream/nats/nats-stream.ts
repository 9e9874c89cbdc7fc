import { type Position, partitionOf, type Stream } from '../stream.js'
import { createNatsAdmin, type NatsStreamOptions } from './admin.js'
import { createNatsConsumer } from './consumer.js'
import { groupStatus } from './lag.js'
import { readSince } from './read-since.js'

export type { NatsStreamOptions } from './admin.js'

/**
 * NATS JetStream behind the stream port: a JetStream stream per topic (file storage) with a subject
 * per partition, and per group and partition a durable pull consumer filtered to that subject, with
 * explicit, cumulative acks (AckPolicy.All). Offsets are JetStream sequence numbers: increasing in
 * a partition, not dense. `publish` resolves on JetStream's acks, which come
 * after the record is stored; a commit acks (and waits for the server to confirm) every record
 * polled before it; a closed consumer naks the rest so they come again at once.
 *
 * @example const stream = await createNatsStream({ url: 'nats://127.0.0.1:4222' })
 */
export async function createNatsStream(o: NatsStreamOptions): Promise<Stream> {
  const a = await createNatsAdmin(o)
  return {
    async publish(topic, records) {
      const t = await a.ensure(topic)
      const keyless = t.next++ % t.partitions
      // Sent in order on one connection, so JetStream stores them in order; acks come back per record.
      const acks = records.map(async (r) => {
        const h = a.headers()
        for (const [k, v] of Object.entries(r.headers ?? {})) h.set(k, v)
        if (r.key !== undefined) h.set('weir-key', r.key)
        h.set('weir-ts', String(r.timestamp ?? Date.now()))
        const p = r.key === undefined ? keyless : partitionOf(r.key, t.partitions)
        const seq = await a.publisher.publish(a.subject(topic, p), r.value, h)
        return { partition: String(p), offset: String(seq) } satisfies Position
      })
      return Promise.all(acks)
    },
    consumer: (group, topics, options) => createNatsConsumer(a, group, topics, options),
    groups: () => groupStatus(a),
    readSince: (topic, since) => readSince(a, topic, since),
    topics: () => a.topics(),
    async close() {
      await a.nc.flush()
      a.publisher.close()
      await a.nc.drain()
    },
  }
}
