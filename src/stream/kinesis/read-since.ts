import { CLOCK_SKEW_MS, type Delivery } from '../stream.js'
import type { KinesisAdmin } from './admin.js'
import { deliver } from './envelope.js'

/** What arrived on a topic since a time, shard by shard (for consumers catching up, e.g. alerts). */
export async function* readSince(a: KinesisAdmin, topic: string, since: number): AsyncGenerator<Delivery[]> {
  await a.ensure(topic)
  const name = a.streamName(topic)
  const from = since - CLOCK_SKEW_MS
  for (const shard of await a.listShards(name)) {
    const iteratorOf = (
      spec: { ShardIteratorType: 'AT_TIMESTAMP'; Timestamp: Date } | { ShardIteratorType: 'TRIM_HORIZON' },
      signal?: AbortSignal,
    ) =>
      a.client.send(
        new a.sdk.GetShardIteratorCommand({ StreamName: name, ShardId: shard.ShardId!, ...spec }),
        signal ? { abortSignal: signal } : {},
      )
    // kinesalite never answers AT_TIMESTAMP on a shard with nothing after the time (AWS does):
    // past a few seconds, read the shard from its start, keeping only what arrived since.
    const first = await a.send(`opening ${name}/${shard.ShardId}`, () =>
      iteratorOf(
        { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(from) },
        AbortSignal.timeout(3_000),
      ).catch((err: Error) => {
        if (err.name !== 'TimeoutError' && err.name !== 'AbortError') throw err
        return iteratorOf({ ShardIteratorType: 'TRIM_HORIZON' })
      }),
    )
    for (let it = first.ShardIterator; it; ) {
      const iterator = it
      const r = await a.send(`reading ${name}`, () =>
        a.client.send(new a.sdk.GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 })),
      )
      const got = (r.Records ?? [])
        .filter((rec) => (rec.ApproximateArrivalTimestamp?.getTime() ?? from) >= from)
        .flatMap((rec) => deliver(topic, shard.ShardId!, rec))
      if (got.length) yield got
      if (!r.Records?.length && (r.MillisBehindLatest ?? 0) === 0) break
      it = r.NextShardIterator
    }
  }
}
