import type { JsMsg } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { WeirError } from '../../core/errors.js'
import { parseDuration } from '../../core/units.js'
import type { Consumer, ConsumerOptions, Delivery, GroupStatus, Stream } from '../stream.js'

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
}

/**
 * NATS JetStream behind the stream port: a JetStream stream per topic (file storage), a durable
 * pull consumer per group with explicit, cumulative acks (AckPolicy.All). `publish` resolves on JetStream's acks, which come
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
  const subject = (topic: string) => `${prefix}.${topic.replace(/[^A-Za-z0-9_-]/g, '_')}`
  const ready = new Map<string, Promise<void>>()

  const ensure = (topic: string) => {
    let p = ready.get(topic)
    if (!p) {
      p = (async () => {
        const name = streamName(topic)
        const config = {
          name,
          subjects: [subject(topic)],
          storage: StorageType.File,
          ...(o.maxAge !== undefined ? { max_age: parseDuration(o.maxAge) * 1_000_000 } : {}),
          ...(o.maxBytes !== undefined ? { max_bytes: o.maxBytes } : {}),
        }
        try {
          await jsm.streams.info(name)
        } catch {
          await jsm.streams.add(config)
        }
      })()
      ready.set(topic, p)
    }
    return p
  }

  return {
    async publish(topic, records) {
      await ensure(topic)
      // Sent in order on one connection, so JetStream stores them in order; acks come back per record.
      const acks = records.map((r) => {
        const h = headers()
        for (const [k, v] of Object.entries(r.headers ?? {})) h.set(k, v)
        if (r.key !== undefined) h.set('weir-key', r.key)
        h.set('weir-ts', String(r.timestamp ?? Date.now()))
        return js.publish(subject(topic), r.value, { headers: h })
      })
      return (await Promise.all(acks)).map((a) => a.seq)
    },

    async consumer(group, topics, options: ConsumerOptions = {}) {
      const durable = group.replace(/[^A-Za-z0-9_-]/g, '_')
      const start = options.start ?? 'earliest'
      const subs = await Promise.all(
        topics.map(async (topic) => {
          await ensure(topic)
          const name = streamName(topic)
          try {
            await jsm.consumers.info(name, durable)
          } catch {
            await jsm.consumers.add(name, {
              durable_name: durable,
              ack_policy: AckPolicy.All,
              ack_wait: ackWaitNs,
              max_ack_pending: -1,
              ...(start === 'earliest'
                ? { deliver_policy: DeliverPolicy.All }
                : start === 'latest'
                  ? { deliver_policy: DeliverPolicy.New }
                  : 'offset' in start
                    ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start.offset }
                    : {
                        deliver_policy: DeliverPolicy.StartTime,
                        opt_start_time: new Date(start.time).toISOString(),
                      }),
            })
          }
          return { topic, consumer: await js.consumers.get(name, durable) }
        }),
      )
      const pending = new Map<string, JsMsg[]>()
      const position: Record<string, number> = {}
      return {
        async poll({ maxRecords }) {
          const out: Delivery[] = []
          for (const { topic, consumer } of subs) {
            const want = maxRecords - out.length
            if (want <= 0) break
            // Ask how many are waiting first: a fetch for more than that would wait out its expiry.
            const waiting = (await consumer.info()).num_pending
            if (waiting === 0) continue
            const msgs = await consumer.fetch({ max_messages: Math.min(want, waiting), expires: 5_000 })
            for await (const m of msgs) {
              const h: Record<string, string> = {}
              for (const k of m.headers?.keys() ?? []) if (!k.startsWith('weir-')) h[k] = m.headers!.get(k)
              out.push({
                topic,
                offset: m.seq,
                key: m.headers?.get('weir-key') || undefined,
                value: m.data,
                timestamp: Number(m.headers?.get('weir-ts') ?? Date.now()),
                headers: h,
              })
              const list = pending.get(topic) ?? []
              if (list.length === 0) pending.set(topic, list)
              list.push(m)
              position[topic] = m.seq + 1
            }
          }
          return out
        },
        position: () => ({ ...position }),
        async commit(next) {
          for (const [topic, upTo] of Object.entries(next)) {
            const msgs = pending.get(topic) ?? []
            const cut = msgs.findIndex((m) => m.seq >= upTo)
            const done = cut < 0 ? msgs.length : cut
            if (done === 0) continue
            // AckPolicy.All: acking the last committed record acks every one before it, in one round
            // trip; ackAck waits for the server's confirmation, so a commit that returned is durable.
            await msgs[done - 1]!.ackAck()
            pending.set(topic, msgs.slice(done))
          }
        },
        async lag() {
          const out: Record<string, number> = {}
          for (const { topic, consumer } of subs) {
            const info = await consumer.info()
            out[topic] = info.num_pending + info.num_ack_pending
          }
          return out
        },
        async close() {
          for (const msgs of pending.values()) for (const m of msgs) m.nak()
          pending.clear()
          await nc.flush()
        },
      } satisfies Consumer
    },

    async groups() {
      const out: GroupStatus[] = []
      for await (const st of jsm.streams.list()) {
        if (!st.config.name.startsWith(`${prefix}_`)) continue
        const topic = st.config.name.slice(prefix.length + 1)
        for await (const c of jsm.consumers.list(st.config.name)) {
          const committed = c.ack_floor.stream_seq + 1
          out.push({
            topic,
            group: c.name,
            committed,
            end: st.state.last_seq + 1,
            lag: c.num_pending + c.num_ack_pending,
          })
        }
      }
      return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.group.localeCompare(b.group))
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
