/** A record to publish: opaque bytes with a partition key, an event timestamp and string headers. */
export interface StreamRecordInput {
  readonly key?: string
  readonly value: Uint8Array
  /** Milliseconds since the epoch; defaults to the publish time. */
  readonly timestamp?: number
  readonly headers?: Readonly<Record<string, string>>
}

/** Where a new consumer group starts reading; a group that has committed resumes after its commit. */
export type StartAt = 'earliest' | 'latest' | { readonly offset: number } | { readonly time: number }

export interface ConsumerOptions {
  /** Default: earliest. */
  readonly start?: StartAt
}

/** A record as delivered to a consumer, with its position in the topic (increasing; adapters may start at 0 or 1). */
export interface Delivery {
  readonly topic: string
  readonly offset: number
  readonly key: string | undefined
  readonly value: Uint8Array
  readonly timestamp: number
  readonly headers: Readonly<Record<string, string>>
}

/**
 * A consumer group's view of some topics. Records come back from `poll` in offset order per topic;
 * nothing is remembered until `commit`, so a crash replays from the last commit (at-least-once,
 * which landing turns into exactly-once files by naming them after their offsets).
 */
export interface Consumer {
  /** Up to `maxRecords` records after the ones already polled; empty when caught up. */
  poll(options: { readonly maxRecords: number }): Promise<Delivery[]>
  /** Durably records, per topic, the offset of the next record this group needs. */
  commit(next: Readonly<Record<string, number>>): Promise<void>
  /** Per topic, the offset of the next record `poll` would return (what to commit once all polled work is durable). */
  position(): Record<string, number>
  /** Per topic, records published but not yet committed by this group. */
  lag(): Promise<Record<string, number>>
  close(): Promise<void>
}

/**
 * The stream port: a durable log between sources and every consumer (landing, alerts, serving).
 * `publish` resolves only once the records are durable; each consumer group sees every record.
 *
 * @example
 * const offsets = await stream.publish('x', [{ value: Buffer.from('{"id":"1"}'), headers: { resource: 'tweets' } }])
 */
export interface Stream {
  publish(topic: string, records: readonly StreamRecordInput[]): Promise<number[]>
  consumer(group: string, topics: readonly string[], options?: ConsumerOptions): Promise<Consumer>
  topics(): Promise<string[]>
  /** Every consumer group of every topic: where it has committed to, where the topic ends, the lag. */
  groups(): Promise<GroupStatus[]>
  close(): Promise<void>
}

export interface GroupStatus {
  readonly topic: string
  readonly group: string
  /** Position of the next record the group needs. */
  readonly committed: number
  /** Position the next published record will get. */
  readonly end: number
  readonly lag: number
}
