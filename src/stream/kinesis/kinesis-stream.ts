import type { StateStore } from '../../state/state.js'
import type { Stream } from '../stream.js'
import { createKinesisAdmin, type KinesisOptions } from './admin.js'
import { createKinesisConsumer } from './consumer.js'
import { groupStatus } from './lag.js'
import { publish } from './producer.js'
import { readSince } from './read-since.js'

export interface KinesisStreamOptions extends KinesisOptions {
  /** Where each group's checkpoints are kept (`_state/stream/kinesis/<group>.json` in the lake). */
  readonly checkpoints: StateStore
  /** KPL aggregation of the records bound for one shard (default true). */
  readonly aggregate?: boolean
  /** Gzip aggregated records (default false; only Weir reads them then). */
  readonly gzip?: boolean
}

/**
 * Amazon Kinesis Data Streams behind the stream port: a Kinesis stream per topic, a partition per
 * shard (offsets are Kinesis sequence numbers), PutRecords with retry of the records it refused,
 * and per group a checkpoint per shard kept in Weir's state, so several groups read one stream at
 * their own pace without DynamoDB. A child shard is read only after its parents are finished, which
 * keeps each key's order across resharding.
 *
 * @example const stream = await createKinesisStream({ checkpoints: state, region: 'eu-west-1', shards: 4 })
 */
export async function createKinesisStream(o: KinesisStreamOptions): Promise<Stream> {
  const a = await createKinesisAdmin(o)
  return {
    publish: (topic, records) =>
      publish(a, topic, records, { aggregate: o.aggregate ?? true, gzip: o.gzip ?? false }),
    consumer: (group, topics, options) => createKinesisConsumer(a, o.checkpoints, group, topics, options),
    groups: () => groupStatus(a, o.checkpoints),
    readSince: (topic, since) => readSince(a, topic, since),
    topics: () => a.topics(),
    async close() {
      a.client.destroy()
    },
  }
}
