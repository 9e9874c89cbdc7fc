import type { ConsumerConfig, JsMsg } from '@nats-io/jetstream'
import {
  type Checkpoint,
  type Consumer,
  type ConsumerOptions,
  compareOffsets,
  type Delivery,
  rotation,
  type StartAt,
  setOffset,
} from '../stream.js'
import { deliver, type NatsAdmin } from './admin.js'

/**
 * A consumer group: per partition a durable pull consumer filtered to its subject, with explicit,
 * cumulative acks. A commit acks (and waits for the server to confirm) every record polled before
 * it; a closed consumer naks the rest so they come again at once.
 */
export async function createNatsConsumer(
  a: NatsAdmin,
  group: string,
  topics: readonly string[],
  options: ConsumerOptions = {},
): Promise<Consumer> {
  const durable = group.replace(/[^A-Za-z0-9_-]/g, '_')
  const start = options.start ?? 'earliest'
  const subs = (
    await Promise.all(
      topics.map(async (topic) => {
        const { partitions } = await a.ensure(topic)
        const all = Array.from({ length: partitions }, (_, p) => String(p))
        const mine = options.partitions ? await options.partitions(topic, all) : all
        return Promise.all(mine.map((p) => partitionConsumer(a, durable, topic, Number(p), start)))
      }),
    )
  ).flat()

  const inTurn = rotation(subs)
  return {
    async poll({ maxRecords }) {
      const out: Delivery[] = []
      for (const s of inTurn()) {
        if (out.length >= maxRecords) break
        // Ask how many are waiting first: a fetch for more than that would wait out its expiry.
        const waiting = (await s.consumer.info()).num_pending
        if (waiting === 0) continue
        const msgs = await s.consumer.fetch({
          max_messages: Math.min(maxRecords - out.length, waiting),
          expires: 5_000,
        })
        for await (const m of msgs) {
          // Redelivered after its ack wait while this process still holds it (a file still
          // filling): it is already taken, and the commit that covers it acks it.
          if (s.last !== undefined && compareOffsets(String(m.seq), s.last) <= 0) continue
          out.push(deliver(s.topic, s.partition, m))
          s.pending.push(m)
          s.last = String(m.seq)
        }
      }
      return out
    },
    position() {
      const out: Checkpoint = {}
      for (const s of subs) if (s.last !== undefined) setOffset(out, s.topic, s.partition, s.last)
      return out
    },
    async commit(done) {
      for (const s of subs) {
        const upTo = done[s.topic]?.[s.partition]
        if (upTo === undefined) continue
        const cut = s.pending.findIndex((m) => compareOffsets(String(m.seq), upTo) > 0)
        const n = cut < 0 ? s.pending.length : cut
        if (n === 0) continue
        // a.AckPolicy.All: acking the last committed record acks every one before it, in one round
        // trip; ackAck waits for the server's confirmation, so a commit that returned is durable.
        await s.pending[n - 1]!.ackAck()
        s.pending.splice(0, n)
      }
    },
    async close() {
      for (const s of subs) for (const m of s.pending.splice(0)) m.nak()
      await a.nc.flush()
    },
  } satisfies Consumer
}

/** The group's durable consumer of one partition, made (or restarted after a crash) where it must start. */
async function partitionConsumer(a: NatsAdmin, durable: string, topic: string, p: number, start: StartAt) {
  const name = a.streamName(topic)
  const consumerName = `${durable}-p${p}`
  /** A group's durable consumer of one partition, delivering from where `from` says. */
  const make = (from: Partial<ConsumerConfig>) =>
    a.jsm.consumers.add(name, {
      durable_name: consumerName,
      filter_subject: a.subject(topic, p),
      ack_policy: a.AckPolicy.All,
      ack_wait: a.ackWaitNs,
      max_ack_pending: -1,
      ...from,
    })
  const existing = await a.jsm.consumers.info(name, consumerName).catch(() => undefined)
  if (existing && existing.num_ack_pending > 0) {
    // Records delivered to a process that died are held until their ack wait runs out,
    // and JetStream counts them in neither num_pending nor a fetch: start the group
    // again right after its last commit, so they come now. One process owns a group's
    // partition at a time (a lease when several share it), so nobody else holds them.
    const c = existing.config
    const floor = existing.ack_floor.stream_seq
    await a.jsm.consumers.delete(name, consumerName)
    await make(
      // Nothing committed yet: where the group was told to start, again.
      floor > 0
        ? { deliver_policy: a.DeliverPolicy.StartSequence, opt_start_seq: floor + 1 }
        : {
            deliver_policy: c.deliver_policy,
            ...(c.opt_start_seq ? { opt_start_seq: c.opt_start_seq } : {}),
            ...(c.opt_start_time ? { opt_start_time: c.opt_start_time } : {}),
          },
    )
  } else if (!existing) {
    const at =
      typeof start === 'object' && 'from' in start
        ? start.from.find((x) => x.partition === String(p))
        : undefined
    await make({
      ...(start === 'earliest'
        ? { deliver_policy: a.DeliverPolicy.All }
        : start === 'latest'
          ? { deliver_policy: a.DeliverPolicy.New }
          : 'time' in start
            ? {
                deliver_policy: a.DeliverPolicy.StartTime,
                opt_start_time: new Date(start.time).toISOString(),
              }
            : at
              ? {
                  deliver_policy: a.DeliverPolicy.StartSequence,
                  opt_start_seq: Number(at.offset),
                }
              : { deliver_policy: a.DeliverPolicy.All }),
    })
  }
  return {
    topic,
    partition: String(p),
    consumer: await a.js.consumers.get(name, consumerName),
    pending: [] as JsMsg[],
    last: undefined as string | undefined,
  }
}
