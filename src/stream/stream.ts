import { createHash } from 'node:crypto'
import { WeirError } from '../core/errors.js'
import type { StateStore } from '../state/state.js'

/** A record to publish: opaque bytes with a partition key, an event timestamp and string headers. */
export interface StreamRecordInput {
  /** Records with the same key go to the same partition and keep their order; without one, a whole publish goes to one partition. */
  readonly key?: string
  readonly value: Uint8Array
  /** Milliseconds since the epoch; defaults to the publish time. */
  readonly timestamp?: number
  readonly headers?: Readonly<Record<string, string>>
}

/**
 * Where a record sits: a partition of its topic and an offset in that partition. Offsets are
 * decimal integers as strings, increasing within a partition (dense in the embedded log; on NATS
 * and Kinesis, the sequence number of the message the record is packed in and its place in it,
 * three more digits, which do not fit in a double).
 */
export interface Position {
  readonly partition: string
  readonly offset: string
}

/** Where a new consumer group starts reading; a group that has committed resumes after its commit. */
export type StartAt =
  | 'earliest'
  | 'latest'
  | { readonly time: number }
  /** At these records (inclusive), per partition; partitions not listed start at the earliest. */
  | { readonly from: readonly Position[] }

export interface ConsumerOptions {
  /** Default: earliest. */
  readonly start?: StartAt
  /**
   * Consume only the partitions this returns, of each topic's: how processes that share a group
   * divide the partitions between them. NATS supports it; the embedded stream (one process) and
   * Kinesis refuse it with `unassignable`.
   */
  readonly partitions?: (topic: string, all: readonly string[]) => Promise<readonly string[]>
}

/** A record as delivered to a consumer. */
export interface Delivery extends Position {
  readonly topic: string
  readonly key: string | undefined
  readonly value: Uint8Array
  readonly timestamp: number
  readonly headers: Readonly<Record<string, string>>
}

/** Per topic, per partition: the offset of the last record processed. */
export type Checkpoint = Record<string, Record<string, string>>

/**
 * A consumer group's view of some topics. Records come back from `poll` in offset order per
 * partition; nothing is remembered until `commit`, so a crash replays from the last commit
 * (at-least-once, which landing turns into exactly-once files by naming them after their offsets).
 */
export interface Consumer {
  /** Up to `maxRecords` records after the ones already polled; empty when caught up. */
  poll(options: { readonly maxRecords: number }): Promise<Delivery[]>
  /** Durably records, per topic and partition, the last record this group has processed. */
  commit(done: Readonly<Checkpoint>): Promise<void>
  /** The last record polled per topic and partition: what to commit once all polled work is durable. */
  position(): Checkpoint
  close(): Promise<void>
}

/**
 * The stream port: a durable log between sources and every consumer (landing, alerts, serving).
 * `publish` resolves only once the records are durable; each consumer group sees every record.
 *
 * @example
 * const [at] = await stream.publish('x', [{ key: '42', value: Buffer.from('{"id":"42"}'), headers: { resource: 'tweets' } }])
 */
export interface Stream {
  /** Resolves, once durable, with each record's position, in the order given. */
  publish(topic: string, records: readonly StreamRecordInput[]): Promise<Position[]>
  consumer(group: string, topics: readonly string[], options?: ConsumerOptions): Promise<Consumer>
  /**
   * Every record of a topic published at or after `since` (ms since the epoch), partition by
   * partition, up to the end as it was when called, without a consumer group: how an ingest that
   * restarts after a crash learns which of its batches the stream already holds. Remote streams
   * read from a little earlier (clocks of two machines differ), so callers filter by what they seek.
   */
  readSince(topic: string, since: number): AsyncIterable<readonly Delivery[]>
  topics(): Promise<string[]>
  /** Every consumer group of every topic and partition: what it has committed, where the partition ends, the lag. */
  groups(): Promise<GroupStatus[]>
  close(): Promise<void>
}

/** What opening a stream may need from the project: the lake (whose folder holds the embedded log), the config's folder, and the state store (Kinesis keeps its checkpoints there). */
export interface StreamContext {
  readonly lake: string
  readonly base: string
  readonly state?: StateStore | undefined
}

export interface GroupStatus {
  readonly topic: string
  readonly partition: string
  readonly group: string
  /** Offset of the last record the group committed; absent before its first commit in this partition. */
  readonly committed: string | undefined
  /** Offset of the partition's last record; absent when empty or when the adapter cannot tell cheaply (Kinesis). */
  readonly end: string | undefined
  /** Records published but not committed; absent when the adapter cannot count them (Kinesis). */
  readonly lag: number | undefined
  /** How far the committed position is behind the newest record, in milliseconds, where the adapter knows (Kinesis). */
  readonly behindMs?: number
}

/** How much earlier than asked `readSince` starts on a remote stream, for the clocks of two machines. */
export const CLOCK_SKEW_MS = 30_000

/** Orders two offsets of the same partition (decimal strings without leading zeros). */
export function compareOffsets(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0)
}

/** The last offset per topic and partition among these deliveries: what to commit once they are processed. */
export function checkpointOf(deliveries: Iterable<Delivery>): Checkpoint {
  const out: Checkpoint = {}
  for (const d of deliveries) {
    const seen = out[d.topic]?.[d.partition]
    if (seen === undefined || compareOffsets(d.offset, seen) > 0)
      setOffset(out, d.topic, d.partition, d.offset)
  }
  return out
}

/** Sets one partition's offset in a checkpoint. */
export function setOffset(cp: Checkpoint, topic: string, partition: string, offset: string): void {
  const t = cp[topic]
  if (t) t[partition] = offset
  else cp[topic] = { [partition]: offset }
}

/**
 * The partition a key goes to among `n`, the way Kinesis routes partition keys (the key's MD5 as a
 * 128-bit number, split into equal ranges), so one key lands in the same partition in every adapter.
 */
export function partitionOf(key: string, n: number): number {
  if (n <= 1) return 0
  // The top 48 bits of the hash decide the range exactly enough for any realistic partition count.
  return Math.floor((createHash('md5').update(key).digest().readUIntBE(0, 6) / 2 ** 48) * n)
}

/**
 * The items, starting one further each call: consumers poll partitions in this order, so a deep
 * backlog in the first partition cannot starve the others.
 */
export function rotation<T>(items: readonly T[]): () => T[] {
  let turn = 0
  return () => {
    turn = (turn + 1) % Math.max(1, items.length)
    return [...items.slice(turn), ...items.slice(0, turn)]
  }
}

/** The error of an adapter that cannot consume a chosen subset of partitions. */
export function unassignable(what: string): WeirError {
  return new WeirError(
    `${what} cannot share a consumer group between processes; run several landing processes on the NATS stream`,
    { code: 'STREAM_UNASSIGNABLE', stage: 'stream' },
  )
}
