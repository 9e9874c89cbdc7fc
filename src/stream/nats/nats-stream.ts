import type { ConsumerConfig, JsMsg } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { WeirError } from '../../core/errors.js'
import { parseDuration } from '../../core/units.js'
import {
  type Checkpoint,
  CLOCK_SKEW_MS,
  type Consumer,
  type ConsumerOptions,
  compareOffsets,
  type Delivery,
  type GroupStatus,
  type Position,
  partitionOf,
  rotation,
  type Stream,
  setOffset,
} from '../stream.js'

export interface NatsStreamOptions {
  /** e.g. nats://127.0.0.1:4222 */
  readonly url: string
  /** Prefix of stream names and subjects, so several projects can share a server. */
  readonly prefix?: string
  /** How long a delivered record may stay uncommitted before JetStream redelivers it. */
  readonly ackWait?: string | number
  /** Retention of each topic's stream. */
  readonly maxAge?: string | number
  readonly maxBytes?: number
  /** Partitions of a new topic (default 1): one subject each, read by one durable consumer per group. */
  readonly partitions?: number
}

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
  const [{ connect, headers }, js_] = await Promise.all([
    import('@nats-io/transport-node'),
    import('@nats-io/jetstream'),
  ])
  const { jetstream, jetstreamManager, AckPolicy, DeliverPolicy, StorageType } = js_
  let nc: NatsConnection
  try {
    nc = await connect({ servers: o.url, name: 'weir' })
  } catch (err) {
    throw new WeirError(`stream: cannot connect to NATS at ${o.url}: ${(err as Error).message}`, {
      code: 'STREAM_CONNECT',
      stage: 'stream',
      retryable: true,
      cause: err,
    })
  }
  const jsm = await jetstreamManager(nc)
  const js = jetstream(nc)
  const prefix = (o.prefix ?? 'weir').replace(/[^A-Za-z0-9_-]/g, '_')
  const ackWaitNs = parseDuration(o.ackWait ?? '30s') * 1_000_000
  const streamName = (topic: string) => `${prefix}_${topic}`.replace(/[^A-Za-z0-9_-]/g, '_')
  const subject = (topic: string, p: number | string) =>
    `${prefix}.${topic.replace(/[^A-Za-z0-9_-]/g, '_')}.${p}`
  const ready = new Map<string, Promise<{ partitions: number; next: number }>>()

  /** Creates the topic's stream if needed and returns its partition count, which the stream's description keeps. */
  const ensure = (topic: string) => {
    let p = ready.get(topic)
    if (!p) {
      p = (async () => {
        const name = streamName(topic)
        const info = await jsm.streams.info(name).catch(() => undefined)
        if (info) {
          const n = Number(/weir partitions=(\d+)/.exec(info.config.description ?? '')?.[1])
          if (!Number.isInteger(n) || n < 1) {
            throw new WeirError(
              `stream: the NATS stream ${name} was not created by this version of Weir (no partition count in its description); delete it (nats stream rm ${name}) or use another prefix`,
              { code: 'STREAM_CONFIG', stage: 'stream' },
            )
          }
          return { partitions: n, next: 0 }
        }
        const partitions = o.partitions ?? 1
        await jsm.streams.add({
          name,
          subjects: [subject(topic, '*')],
          storage: StorageType.File,
          // In the description, not metadata: metadata needs NATS 2.10 and servers in use are older.
          description: `weir partitions=${partitions}`,
          ...(o.maxAge !== undefined ? { max_age: parseDuration(o.maxAge) * 1_000_000 } : {}),
          ...(o.maxBytes !== undefined ? { max_bytes: o.maxBytes } : {}),
        })
        return { partitions, next: 0 }
      })()
      ready.set(topic, p)
    }
    return p
  }

  return {
    async publish(topic, records) {
      const t = await ensure(topic)
      const keyless = t.next++ % t.partitions
      // Sent in order on one connection, so JetStream stores them in order; acks come back per record.
      const acks = records.map(async (r) => {
        const h = headers()
        for (const [k, v] of Object.entries(r.headers ?? {})) h.set(k, v)
        if (r.key !== undefined) h.set('weir-key', r.key)
        h.set('weir-ts', String(r.timestamp ?? Date.now()))
        const p = r.key === undefined ? keyless : partitionOf(r.key, t.partitions)
        const ack = await js.publish(subject(topic, p), r.value, { headers: h })
        return { partition: String(p), offset: String(ack.seq) } satisfies Position
      })
      return Promise.all(acks)
    },

    async consumer(group, topics, options: ConsumerOptions = {}) {
      const durable = group.replace(/[^A-Za-z0-9_-]/g, '_')
      const start = options.start ?? 'earliest'
      const subs = (
        await Promise.all(
          topics.map(async (topic) => {
            const { partitions } = await ensure(topic)
            const name = streamName(topic)
            const all = Array.from({ length: partitions }, (_, p) => String(p))
            const mine = options.partitions ? await options.partitions(topic, all) : all
            return Promise.all(
              mine.map(Number).map(async (p) => {
                const consumerName = `${durable}-p${p}`
                /** A group's durable consumer of one partition, delivering from where `from` says. */
                const make = (from: Partial<ConsumerConfig>) =>
                  jsm.consumers.add(name, {
                    durable_name: consumerName,
                    filter_subject: subject(topic, p),
                    ack_policy: AckPolicy.All,
                    ack_wait: ackWaitNs,
                    max_ack_pending: -1,
                    ...from,
                  })
                const existing = await jsm.consumers.info(name, consumerName).catch(() => undefined)
                if (existing && existing.num_ack_pending > 0) {
                  // Records delivered to a process that died are held until their ack wait runs out,
                  // and JetStream counts them in neither num_pending nor a fetch: start the group
                  // again right after its last commit, so they come now. One process owns a group's
                  // partition at a time (a lease when several share it), so nobody else holds them.
                  const c = existing.config
                  const floor = existing.ack_floor.stream_seq
                  await jsm.consumers.delete(name, consumerName)
                  await make(
                    // Nothing committed yet: where the group was told to start, again.
                    floor > 0
                      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: floor + 1 }
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
                      ? { deliver_policy: DeliverPolicy.All }
                      : start === 'latest'
                        ? { deliver_policy: DeliverPolicy.New }
                        : 'time' in start
                          ? {
                              deliver_policy: DeliverPolicy.StartTime,
                              opt_start_time: new Date(start.time).toISOString(),
                            }
                          : at
                            ? {
                                deliver_policy: DeliverPolicy.StartSequence,
                                opt_start_seq: Number(at.offset),
                              }
                            : { deliver_policy: DeliverPolicy.All }),
                  })
                }
                return {
                  topic,
                  partition: String(p),
                  consumer: await js.consumers.get(name, consumerName),
                  pending: [] as JsMsg[],
                  last: undefined as string | undefined,
                }
              }),
            )
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
            // AckPolicy.All: acking the last committed record acks every one before it, in one round
            // trip; ackAck waits for the server's confirmation, so a commit that returned is durable.
            await s.pending[n - 1]!.ackAck()
            s.pending.splice(0, n)
          }
        },
        async close() {
          for (const s of subs) for (const m of s.pending.splice(0)) m.nak()
          await nc.flush()
        },
      } satisfies Consumer
    },

    async groups() {
      const out: GroupStatus[] = []
      for await (const st of jsm.streams.list()) {
        if (!st.config.name.startsWith(`${prefix}_`)) continue
        const topic = st.config.name.slice(prefix.length + 1)
        const ends = new Map<string, string | undefined>()
        for await (const c of jsm.consumers.list(st.config.name)) {
          const m = /^(.*)-p(\d+)$/.exec(c.name)
          if (!m) continue
          const [, group, partition] = m as unknown as [string, string, string]
          if (!ends.has(partition)) {
            const last = await jsm.streams
              .getMessage(st.config.name, { last_by_subj: c.config.filter_subject ?? '' })
              .catch(() => undefined)
            ends.set(partition, last ? String(last.seq) : undefined)
          }
          out.push({
            topic,
            partition,
            group: group!,
            committed: c.ack_floor.stream_seq > 0 ? String(c.ack_floor.stream_seq) : undefined,
            end: ends.get(partition),
            lag: c.num_pending + c.num_ack_pending,
          })
        }
      }
      return out.sort(
        (a, b) =>
          a.topic.localeCompare(b.topic) ||
          a.group.localeCompare(b.group) ||
          Number(a.partition) - Number(b.partition),
      )
    },
    async *readSince(topic, since) {
      const t = await ensure(topic)
      for (let p = 0; p < t.partitions; p++) {
        // An ephemeral consumer without acks (removed after, and by the server when left idle): it
        // moves no group. Not the client's ordered consumer, which needs NATS 2.10.
        const info = await jsm.consumers.add(streamName(topic), {
          filter_subject: subject(topic, p),
          ack_policy: AckPolicy.None,
          deliver_policy: DeliverPolicy.StartTime,
          opt_start_time: new Date(since - CLOCK_SKEW_MS).toISOString(),
          inactive_threshold: 60_000_000_000,
        })
        const c = await js.consumers.get(streamName(topic), info.name)
        try {
          for (;;) {
            const waiting = (await c.info()).num_pending
            if (waiting === 0) break
            const msgs = await c.fetch({ max_messages: Math.min(waiting, 1_000), expires: 5_000 })
            const out: Delivery[] = []
            for await (const m of msgs) out.push(deliver(topic, String(p), m))
            if (out.length === 0) break
            yield out
          }
        } finally {
          await c.delete().catch(() => false)
        }
      }
    },

    async topics() {
      const names: string[] = []
      for await (const s of jsm.streams.list()) {
        if (s.config.name.startsWith(`${prefix}_`)) names.push(s.config.name.slice(prefix.length + 1))
      }
      return names
    },

    async close() {
      await nc.drain()
    },
  }
}

/** A JetStream message as a delivery: Weir's own headers (`weir-*`) become the key and timestamp. */
function deliver(topic: string, partition: string, m: JsMsg): Delivery {
  const h: Record<string, string> = {}
  for (const key of m.headers?.keys() ?? []) if (!key.startsWith('weir-')) h[key] = m.headers!.get(key)
  return {
    topic,
    partition,
    offset: String(m.seq),
    key: m.headers?.get('weir-key') || undefined,
    value: m.data,
    timestamp: Number(m.headers?.get('weir-ts') ?? Date.now()),
    headers: h,
  }
}
