import type { StateStore } from '../../state/state.js'
import { sequenceOf } from '../envelope.js'
import type { Checkpoint, GroupStatus } from '../stream.js'
import type { KinesisAdmin } from './admin.js'

/** Each group's checkpoint per shard and how far behind it is (GetRecords' MillisBehindLatest). */
export async function groupStatus(a: KinesisAdmin, checkpoints: StateStore): Promise<GroupStatus[]> {
  const out: GroupStatus[] = []
  for (const doc of await checkpoints.list('stream/kinesis')) {
    const group = doc.slice('stream/kinesis/'.length)
    const saved = (await checkpoints.get<Checkpoint>(doc)) ?? {}
    for (const [topic, shards] of Object.entries(saved)) {
      for (const shard of await a.listShards(a.streamName(topic))) {
        const committed = shards[shard.ShardId!]
        // How far behind: GetRecords from the checkpoint says so in MillisBehindLatest.
        const it = await a.client.send(
          new a.sdk.GetShardIteratorCommand({
            StreamName: a.streamName(topic),
            ShardId: shard.ShardId!,
            ...(committed
              ? {
                  ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
                  StartingSequenceNumber: sequenceOf(committed),
                }
              : { ShardIteratorType: 'TRIM_HORIZON' }),
          }),
        )
        const r = await a.client.send(
          new a.sdk.GetRecordsCommand({ ShardIterator: it.ShardIterator, Limit: 1 }),
        )
        out.push({
          topic,
          partition: shard.ShardId!,
          group,
          committed,
          end: shard.SequenceNumberRange?.EndingSequenceNumber,
          lag: r.Records?.length ? undefined : 0,
          ...(r.MillisBehindLatest !== undefined ? { behindMs: r.MillisBehindLatest } : {}),
        })
      }
    }
  }
  return out
}
