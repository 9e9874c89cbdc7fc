import type { ConsumerConfig, JsMsg } from '@nats-io/jetstream'
import { sequenceOf, subOf, userOffset } from '../envelope.js'
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
import type { NatsAdmin } from './admin.js'
import { unpack } from './batch.js'

/**
 * A consumer group: per partition a durable pull consumer filtered to its subject, with explicit,
 * cumulative acks. Messages hold batches of records: a poll may leave part of one for the next,
 * a commit acks (and waits for the server to confirm) every message it covers whole and keeps its
 * place in one it covers in part (`positions.ts`); a closed consumer naks the rest so they come
 * again at once.
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
        if (out.length < maxRecords && s.ready.length === 0) await fetchInto(s, maxRecords - out.length)
        const take = s.ready.splice(0, maxRecords - out.length)
        for (const d of take) out.push(d)
        if (take.length) s.last = take[take.length - 1]!.offset
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
        const cut = s.held.findIndex((h) => compareOffsets(h.last, upTo) > 0)
        const n = cut < 0 ? s.held.length : cut
        const inside = s.held[n]
        if (inside && compareOffsets(upTo, userOffset(inside.m.seq, 0)) >= 0) {
          await a.positions.set(durable, s.topic, s.partition, upTo)
          s.floor = upTo
        }
        if (n === 0) continue
        // a.AckPolicy.All: acking the last message committed whole acks every one before it, in one
        // round trip; ackAck waits for the server's confirmation, so a commit that returned is durable.
        await s.held[n - 1]!.m.ackAck()
        s.held.splice(0, n)
      }
    },
    async close() {
      for (const s of subs) for (const h of s.held.splice(0)) h.m.nak()
      await a.nc.flush()
    },
  } satisfies Consumer
}

/** About what one fetch brings at most: far below a server's max_pending (64 MB by default). */
const FETCH_BYTES = 4 * 1_048_576

type Partition = Awaited<ReturnType<typeof partitionConsumer>>

/** Fetches messages enough for about `room` records into `s.ready`, leaving out what the group already has. */
async function fetchInto(s: Partition, room: number) {
  // Ask how many are waiting first: a fetch for more than that would wait out its expiry.
  const waiting = (await s.consumer.info()).num_pending
  if (waiting === 0) return
  const msgs = await s.consumer.fetch({
    // Bytes bound it too: a fetch of more than the server lets wait on a connection (its
    // max_pending) has the server drop the connection as a slow consumer, and with it what was
    // sent (measured: 400 batches of 280 KB asked for at once, a third never came).
    max_messages: Math.max(
      1,
      Math.min(
        waiting,
        Math.floor(room / s.perMessage),
        Math.floor(FETCH_BYTES / (s.messageBytes || 1_048_576)),
      ),
    ),
    expires: 5_000,
  })
  for await (const m of msgs) {
    // Redelivered after its ack wait while this process still holds it (a file still filling):
    // it is already taken, and the commit that covers it acks it.
    if (m.seq <= s.seen) continue
    s.seen = m.seq
    const records = unpack(s.topic, s.partition, m)
    s.perMessage = records.length
    s.messageBytes = Math.max(s.messageBytes, m.data.length)
    s.held.push({ m, last: records[records.length - 1]!.offset })
    // Records the group committed inside a message it had not finished: delivered again, skipped.
    for (const d of records)
      if (s.floor === undefined || compareOffsets(d.offset, s.floor) > 0) s.ready.push(d)
  }
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
    // Starting inside a message: its records before the one asked for count as committed.
    const sub = at ? subOf(at.offset) : 0
    if (at && sub > 0) await a.positions.set(durable, topic, p, userOffset(sequenceOf(at.offset), sub - 1))
    else await a.positions.clear(durable, topic, p)
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
                  opt_start_seq: Number(sequenceOf(at.offset)),
                }
              : { deliver_policy: a.DeliverPolicy.All }),
    })
  }
  return {
    topic,
    partition: String(p),
    consumer: await a.js.consumers.get(name, consumerName),
    /** Fetched messages not yet acked, with each one's last record. */
    held: [] as { m: JsMsg; last: string }[],
    /** Records fetched and not yet polled. */
    ready: [] as Delivery[],
    /** The last record polled. */
    last: undefined as string | undefined,
    /** The highest message sequence fetched. */
    seen: 0,
    /** Records in the last message fetched: how many messages a poll's room is worth. */
    perMessage: 1,
    /** The largest message fetched; until one is, taken as the largest Weir publishes. */
    messageBytes: 0,
    /** Where the group stopped inside a message it committed in part. */
    floor: await a.positions.get(durable, topic, p),
  }
}
