import { userOffset } from '../envelope.js'
import { type Position, partitionOf, type Stream } from '../stream.js'
import { createNatsAdmin, type NatsStreamOptions } from './admin.js'
import { BATCH_HEADER, pack } from './batch.js'
import { createNatsConsumer } from './consumer.js'
import { groupStatus } from './lag.js'
import { readSince } from './read-since.js'

export type { NatsStreamOptions } from './admin.js'

/**
 * NATS JetStream behind the stream port: a JetStream stream per topic (file storage) with a subject
 * per partition, and per group and partition a durable pull consumer filtered to that subject, with
 * explicit, cumulative acks (AckPolicy.All). A publish packs each partition's records into messages
 * of up to a thousand (`batch.ts`); a record's offset is its message's JetStream sequence number and
 * its place in it (`userOffset`): increasing in a partition, not dense. `publish` resolves on
 * JetStream's acks, which come after the messages are stored. A commit acks every message it covers
 * whole and keeps the place in a message it covers in part in a KV bucket (`positions.ts`), so a
 * message delivered again is cut where the group stopped; a closed consumer naks the rest so they
 * come again at once.
 *
 * @example const stream = await createNatsStream({ url: 'nats://127.0.0.1:4222' })
 */
export async function createNatsStream(o: NatsStreamOptions): Promise<Stream> {
  const a = await createNatsAdmin(o)
  return {
    async publish(topic, records) {
      const t = await a.ensure(topic)
      const keyless = t.next++ % t.partitions
      const byPartition = new Map<number, number[]>()
      records.forEach((r, i) => {
        const p = r.key === undefined ? keyless : partitionOf(r.key, t.partitions)
        const list = byPartition.get(p)
        if (list) list.push(i)
        else byPartition.set(p, [i])
      })
      const now = Date.now()
      const out: Position[] = new Array(records.length)
      // Sent in order on one connection, so JetStream stores them in order; an ack a message.
      const acks: Promise<void>[] = []
      for (const [p, indexes] of byPartition) {
        for (const m of pack(topic, records, indexes, a.maxPayload(), now)) {
          const h = a.headers()
          h.set(BATCH_HEADER, String(m.indexes.length))
          acks.push(
            a.publisher.publish(a.subject(topic, p), m.data, h).then((seq) => {
              m.indexes.forEach((i, sub) => {
                out[i] = { partition: String(p), offset: userOffset(seq, sub) }
              })
            }),
          )
        }
      }
      await Promise.all(acks)
      return out
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
