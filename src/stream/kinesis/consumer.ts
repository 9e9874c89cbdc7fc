import type { Shard } from '@aws-sdk/client-kinesis'
import type { StateStore } from '../../state/state.js'
import {
  type Checkpoint,
  type Consumer,
  type ConsumerOptions,
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
    /** Last sequence number polled. */
    last: string | undefined
    /** No more records will come: the shard was closed and is read to its end. */
    done: boolean
  }
  const subs: Sub[] = []
  const iteratorFor = async (topic: string, shard: string, last: string | undefined, isNew: boolean) => {
    const at = last ?? saved[topic]?.[shard]
    const from =
      typeof start === 'object' && 'from' in start ? start.from.find((p) => p.partition === shard) : undefined
    const spec = at
      ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, StartingSequenceNumber: at }
      : isNew
        ? { ShardIteratorType: 'TRIM_HORIZON' as const }
        : iteratorStart(start, from)
    const r = await a.send(`opening ${a.streamName(topic)}/${shard}`, () =>
      a.client.send(
        new a.sdk.GetShardIteratorCommand({ StreamName: a.streamName(topic), ShardId: shard, ...spec }),
      ),
    )
    return r.ShardIterator
  }
  /** Adds shards not yet followed; shards that appear later are children, read from their start. */
  const discover = async (isNew: boolean) => {
    for (const topic of topics) {
      await a.ensure(topic)
      for (const shard of await a.listShards(a.streamName(topic))) {
        if (subs.some((s) => s.topic === topic && s.shard.ShardId === shard.ShardId)) continue
        subs.push({
          topic,
          shard,
          iterator: await iteratorFor(topic, shard.ShardId!, undefined, isNew),
          last: undefined,
          done: false,
        })
      }
    }
  }
  await discover(false)
  const finished = (topic: string, shardId: string | undefined) =>
    !shardId || subs.find((s) => s.topic === topic && s.shard.ShardId === shardId)?.done !== false
  const inTurn = rotation(subs)
  return {
    async poll({ maxRecords }) {
      const out: Delivery[] = []
      for (const s of inTurn()) {
        if (out.length >= maxRecords) break
        if (s.done) continue
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
              s.iterator = await iteratorFor(s.topic, s.shard.ShardId!, s.last, false)
              return undefined
            })
          if (!r) continue
          for (const rec of r.Records ?? []) out.push(deliver(s.topic, s.shard.ShardId!, rec))
          if (r.Records?.length) s.last = r.Records.at(-1)!.SequenceNumber
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

function iteratorStart(start: StartAt, from: Position | undefined) {
  if (start === 'earliest') return { ShardIteratorType: 'TRIM_HORIZON' as const }
  if (start === 'latest') return { ShardIteratorType: 'LATEST' as const }
  if ('time' in start) return { ShardIteratorType: 'AT_TIMESTAMP' as const, Timestamp: new Date(start.time) }
  return from
    ? { ShardIteratorType: 'AT_SEQUENCE_NUMBER' as const, StartingSequenceNumber: from.offset }
    : { ShardIteratorType: 'TRIM_HORIZON' as const }
}
