import type { Shard } from '@aws-sdk/client-kinesis'
import type { StateStore } from '../../state/state.js'
import { sequenceOf } from '../envelope.js'
import {
  type Checkpoint,
  type Consumer,
  type ConsumerOptions,
  compareOffsets,
  type Delivery,
  type Position,
  rotation,
  type StartAt,
  setOffset,
  unassignable,
} from '../stream.js'
import type { KinesisAdmin } from './admin.js'
import { deliver } from './envelope.js'

export const checkpointName = (group: string) => `stream/kinesis/${group.replace(/[^A-Za-z0-9_.-]/g, '_')}`

/**
 * A consumer group over the topics' shards, its checkpoint per shard kept in Weir's state. A child
 * shard is read only after its parents are finished, which keeps each key's order across resharding.
 */
export async function createKinesisConsumer(
  a: KinesisAdmin,
  checkpoints: StateStore,
  group: string,
  topics: readonly string[],
  options: ConsumerOptions = {},
): Promise<Consumer> {
  if (options.partitions) throw unassignable('Kinesis (shard leases are not built yet)')
  const saved = (await checkpoints.get<Checkpoint>(checkpointName(group))) ?? {}
  const start = options.start ?? 'earliest'
  interface Sub {
    readonly topic: string
    readonly shard: Shard
    iterator: string | undefined
    /** Offset of the last record polled. */
    last: string | undefined
    /** Records read but not yet polled (an aggregated record holds many). */
    pending: Delivery[]
    /** Records at or below this offset were delivered before: skipped where a read resumes. */
    floor: string | undefined
    /** No more records will come: the shard was closed and is read to its end. */
    done: boolean
  }
  const subs: Sub[] = []
  /**
   * An iterator that resumes after offset `at` (the last record delivered, or the checkpoint): at
   * its Kinesis record, since the rest of an aggregated record may still be due, with `floor`
   * skipping what was delivered of it.
   */
  const iteratorFor = async (topic: string, shard: string, last: string | undefined, isNew: boolean) => {
    const at = last ?? saved[topic]?.[shard]
    const from =
      typeof start === 'object' && 'from' in start ? start.from.find((p) => p.partition === shard) : undefined
    const spec = at
      ? { ShardIteratorType: 'AT_SEQUENCE_NUMBER' as const, StartingSequenceNumber: sequenceOf(at) }
      : isNew
        ? { ShardIteratorType: 'TRIM_HORIZON' as const }
        : iteratorStart(start, from)
    const r = await a.send(`opening ${a.streamName(topic)}/${shard}`, () =>
      a.client.send(
        new a.sdk.GetShardIteratorCommand({ StreamName: a.streamName(topic), ShardId: shard, ...spec }),
      ),
    )
    // Started at a position: that record is the first delivered.
    const floor = at ?? (from && !isNew ? below(from.offset) : undefined)
    return { iterator: r.ShardIterator, floor }
  }
  /** Adds shards not yet followed; shards that appear later are children, read from their start. */
  const discover = async (isNew: boolean) => {
    for (const topic of topics) {
      await a.ensure(topic)
      for (const shard of await a.listShards(a.streamName(topic))) {
        if (subs.some((s) => s.topic === topic && s.shard.ShardId === shard.ShardId)) continue
        const it = await iteratorFor(topic, shard.ShardId!, undefined, isNew)
        subs.push({
          topic,
          shard,
          iterator: it.iterator,
          floor: it.floor,
          last: undefined,
          pending: [],
          done: false,
        })
      }
    }
  }
  await discover(false)
  // A parent is finished once read to its end and every record of it delivered.
  const finished = (topic: string, shardId: string | undefined) => {
    const parent = shardId ? subs.find((s) => s.topic === topic && s.shard.ShardId === shardId) : undefined
    return !parent || (parent.done && !parent.pending.length)
  }
  const inTurn = rotation(subs)
  return {
    async poll({ maxRecords }) {
      const out: Delivery[] = []
      for (const s of inTurn()) {
        if (out.length >= maxRecords) break
        if (s.pending.length) take(s, out, maxRecords)
        if (s.done || s.pending.length || out.length >= maxRecords) continue
        if (!finished(s.topic, s.shard.ParentShardId) || !finished(s.topic, s.shard.AdjacentParentShardId))
          continue
        // An empty answer can still be behind (a gap in the shard): ask a few times before moving on.
        for (let tries = 0; tries < 5 && out.length < maxRecords && s.iterator; tries++) {
          const r = await a.client
            .send(
              new a.sdk.GetRecordsCommand({
                ShardIterator: s.iterator,
                Limit: Math.min(10_000, maxRecords - out.length),
              }),
            )
            .catch(async (err: Error) => {
              // Iterators expire after five minutes: take a new one from the last record seen.
              if (err.name !== 'ExpiredIteratorException')
                throw a.fail(`reading ${a.streamName(s.topic)}`, err)
              const it = await iteratorFor(s.topic, s.shard.ShardId!, s.last, false)
              s.iterator = it.iterator
              s.floor = it.floor
              // Read again from there: what was waiting comes again (the floor skips the rest).
              s.pending = []
              return undefined
            })
          if (!r) continue
          for (const rec of r.Records ?? []) s.pending.push(...deliver(s.topic, s.shard.ShardId!, rec))
          take(s, out, maxRecords)
          s.iterator = r.NextShardIterator
          if (!s.iterator) {
            s.done = true
            await discover(true)
          }
          if (r.Records?.length || r.MillisBehindLatest === 0) break
        }
      }
      return out
    },
    position() {
      const out: Checkpoint = {}
      for (const s of subs) if (s.last !== undefined) setOffset(out, s.topic, s.shard.ShardId!, s.last)
      return out
    },
    async commit(done) {
      for (const [topic, shards] of Object.entries(done)) saved[topic] = { ...saved[topic], ...shards }
      await checkpoints.put(checkpointName(group), saved)
    },
    async close() {},
  } satisfies Consumer
}

/** Moves a shard's pending records to `out`, up to `max`, leaving out those at or below its floor. */
function take(
  s: { pending: Delivery[]; floor: string | undefined; last: string | undefined },
  out: Delivery[],
  max: number,
) {
  while (s.pending.length && out.length < max) {
    const d = s.pending.shift()!
    if (s.floor !== undefined && compareOffsets(d.offset, s.floor) <= 0) continue
    out.push(d)
    s.last = d.offset
  }
}

/** The offset just below another (decimal strings), so a read can start at `offset` itself. */
function below(offset: string): string | undefined {
  const n = BigInt(offset)
  return n > 0n ? String(n - 1n) : undefined
}

function iteratorStart(start: StartAt, from: Position | undefined) {
  if (start === 'earliest') return { ShardIteratorType: 'TRIM_HORIZON' as const }
  if (start === 'latest') return { ShardIteratorType: 'LATEST' as const }
  if ('time' in start) return { ShardIteratorType: 'AT_TIMESTAMP' as const, Timestamp: new Date(start.time) }
  return from
    ? {
        ShardIteratorType: 'AT_SEQUENCE_NUMBER' as const,
        StartingSequenceNumber: sequenceOf(from.offset),
      }
    : { ShardIteratorType: 'TRIM_HORIZON' as const }
}
