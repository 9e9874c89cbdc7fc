import type { NatsConnection } from '@nats-io/transport-node'
import { WeirError } from '../../core/errors.js'
import { parseDuration } from '../../core/units.js'
import { positionsOf } from './positions.js'
import { createPublisher } from './publisher.js'

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

export type NatsAdmin = Awaited<ReturnType<typeof createNatsAdmin>>

/**
 * The connection and what every part of the adapter asks of it: JetStream's clients, stream and
 * subject names, a topic's stream made (with its partition count), and the topics there are.
 */
export async function createNatsAdmin(o: NatsStreamOptions) {
  const [{ connect, headers }, js_] = await Promise.all([
    import('@nats-io/transport-node'),
    import('@nats-io/jetstream'),
  ])
  const { jetstream, jetstreamManager, AckPolicy, DeliverPolicy, StorageType } = js_
  let nc: NatsConnection
  try {
    // No stack trace captured per request: with one JetStream publish a record, building them was
    // half the publish path's CPU (measured: 30% in the Error constructors, 17% in GC).
    nc = await connect({ servers: o.url, name: 'weir', noAsyncTraces: true })
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

  const topics = async () => {
    const names: string[] = []
    for await (const s of jsm.streams.list()) {
      if (s.config.name.startsWith(`${prefix}_`)) names.push(s.config.name.slice(prefix.length + 1))
    }
    return names
  }
  return {
    nc,
    jsm,
    js,
    publisher: createPublisher(nc, '_INBOX'),
    /** The most a batch message may hold: the server's max_payload (up to 1 MiB) less room for headers. */
    maxPayload: () => Math.min(nc.info?.max_payload ?? 1_048_576, 1_048_576) - 1_024,
    positions: positionsOf(nc, prefix),
    headers,
    AckPolicy,
    DeliverPolicy,
    prefix,
    ackWaitNs,
    streamName,
    subject,
    ensure,
    topics,
  }
}
