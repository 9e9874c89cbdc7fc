import { CLOCK_SKEW_MS, type Delivery } from '../stream.js'
import type { NatsAdmin } from './admin.js'
import { unpack } from './batch.js'

/** What arrived on a topic since a time, partition by partition, through ephemeral consumers. */
export async function* readSince(a: NatsAdmin, topic: string, since: number): AsyncGenerator<Delivery[]> {
  const t = await a.ensure(topic)
  for (let p = 0; p < t.partitions; p++) {
    // An ephemeral consumer without acks (removed after, and by the server when left idle): it
    // moves no group. Not the client's ordered consumer, which needs NATS 2.10.
    const info = await a.jsm.consumers.add(a.streamName(topic), {
      filter_subject: a.subject(topic, p),
      ack_policy: a.AckPolicy.None,
      deliver_policy: a.DeliverPolicy.StartTime,
      opt_start_time: new Date(since - CLOCK_SKEW_MS).toISOString(),
      inactive_threshold: 60_000_000_000,
    })
    const c = await a.js.consumers.get(a.streamName(topic), info.name)
    try {
      for (;;) {
        const waiting = (await c.info()).num_pending
        if (waiting === 0) break
        const msgs = await c.fetch({ max_messages: Math.min(waiting, 16), expires: 5_000 })
        const out: Delivery[] = []
        for await (const m of msgs) out.push(...unpack(topic, String(p), m))
        if (out.length === 0) break
        yield out
      }
    } finally {
      await c.delete().catch(() => false)
    }
  }
}
