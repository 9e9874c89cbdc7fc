import { setTimeout as sleep } from 'node:timers/promises'
import type { _Record, KinesisClient, PutRecordsRequestEntry, Shard } from '@aws-sdk/client-kinesis'
import { WeirError } from '../../core/errors.js'
import type { StateStore } from '../../state/state.js'
import {
  type Checkpoint,
  CLOCK_SKEW_MS,
  type Consumer,
  type ConsumerOptions,
  compareOffsets,
  type Delivery,
  type GroupStatus,
  type Position,
  rotation,
  type StartAt,
  type Stream,
  setOffset,
  unassignable,
} from '../stream.js'

export interface KinesisStreamOptions {
  /** Where each group's checkpoints are kept (`_state/stream/kinesis/<group>.json` in the lake). */
  readonly checkpoints: StateStore
  /** Kinesis stream names are `<prefix>-<topic>`. */
  readonly prefix?: string
  /** Shards of a stream Weir creates (default 1); an existing stream keeps its own. */
  readonly shards?: number
  readonly region?: string
  /** For emulators (kinesalite, LocalStack); AWS_ENDPOINT_URL_KINESIS works too. */
  readonly endpoint?: string
}

/** Kinesis's limits: 500 records and 5 MiB per PutRecords, 1 MiB per record (data and key). */
const PUT_RECORDS = 500
const PUT_BYTES = 5 * 1024 * 1024
const RECORD_BYTES = 1024 * 1024
const RETRIES = 10
/**
 * Records Weir publishes carry their headers and timestamp in an envelope: this magic, a u32 length,
 * JSON `{t, h, k}`, then the value. Records from other producers (no magic) are delivered as they are.
 */
const MAGIC = Buffer.from([0x00, 0x57, 0x31])

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
  const [sdk, { NodeHttpHandler }] = await Promise.all([
    import('@aws-sdk/client-kinesis'),
    import('@smithy/node-http-handler'),
  ])
  const client: KinesisClient = new sdk.KinesisClient({
    // The Kinesis client defaults to HTTP/2, which emulators (kinesalite, LocalStack) do not speak;
    // HTTP/1.1 works with AWS too, so the path tested here is the one used in production.
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 5_000,
      requestTimeout: 30_000,
      // Otherwise a request past its timeout only logs a warning and waits on.
      throwOnRequestTimeout: true,
    }),
    ...(o.region ? { region: o.region } : {}),
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
  })
  const prefix = (o.prefix ?? 'weir').replace(/[^A-Za-z0-9_.-]/g, '_')
  const streamName = (topic: string) => `${prefix}-${topic}`.replace(/[^A-Za-z0-9_.-]/g, '_')
  const fail = (what: string, err: unknown) =>
    new WeirError(`stream (Kinesis): ${what}: ${(err as Error).name}: ${(err as Error).message}`, {
      code: 'STREAM_KINESIS',
      stage: 'stream',
      retryable: true,
      cause: err,
    })
  const send = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run()
    } catch (err) {
      throw err instanceof WeirError ? err : fail(what, err)
    }
  }

  const listShards = (name: string) =>
    send(`listing the shards of ${name}`, async () => {
      const shards: Shard[] = []
      let token: string | undefined
      do {
        const r = await client.send(
          new sdk.ListShardsCommand(token ? { NextToken: token } : { StreamName: name }),
        )
        shards.push(...(r.Shards ?? []))
        token = r.NextToken
      } while (token)
      return shards
    })

  const ready = new Map<string, Promise<{ open: Shard[]; next: number }>>()
  /** Creates the topic's stream if needed and waits until it is active; returns its open shards. */
  const ensure = (topic: string) => {
    let p = ready.get(topic)
    if (!p) {
      p = (async () => {
        const name = streamName(topic)
        const status = async () =>
          client
            .send(new sdk.DescribeStreamSummaryCommand({ StreamName: name }))
            .then((r) => r.StreamDescriptionSummary?.StreamStatus)
            .catch((err: Error) => {
              if (err.name === 'ResourceNotFoundException') return undefined
              throw fail(`describing ${name}`, err)
            })
        let s = await status()
        if (s === undefined) {
          await client
            .send(new sdk.CreateStreamCommand({ StreamName: name, ShardCount: o.shards ?? 1 }))
            .catch((err: Error) => {
              if (err.name !== 'ResourceInUseException') throw fail(`creating ${name}`, err)
            })
          s = await status()
        }
        for (let i = 0; s !== 'ACTIVE' && s !== 'UPDATING'; i++) {
          if (i > 600) throw fail(`waiting for ${name} to become active`, new Error(`still ${s}`))
          await sleep(Math.min(1_000, 50 * 2 ** i))
          s = await status()
        }
        const open = (await listShards(name))
          .filter((sh) => !sh.SequenceNumberRange?.EndingSequenceNumber)
          .sort((a, b) => compareOffsets(a.HashKeyRange!.StartingHashKey!, b.HashKeyRange!.StartingHashKey!))
        return { open, next: 0 }
      })()
      p.catch(() => ready.delete(topic))
      ready.set(topic, p)
    }
    return p
  }

  const checkpointName = (group: string) => `stream/kinesis/${group.replace(/[^A-Za-z0-9_.-]/g, '_')}`

  return {
    async publish(topic, records) {
      const t = await ensure(topic)
      const name = streamName(topic)
      // A keyless publish goes whole to one shard, in turn, by its explicit hash key.
      const keyless = t.open[t.next++ % t.open.length]!.HashKeyRange!.StartingHashKey!
      const now = Date.now()
      const entries = records.map((r, i): PutRecordsRequestEntry => {
        const meta = Buffer.from(
          JSON.stringify({
            t: r.timestamp ?? now,
            h: r.headers ?? {},
            ...(r.key !== undefined ? { k: r.key } : {}),
          }),
        )
        const head = Buffer.allocUnsafe(MAGIC.length + 4)
        MAGIC.copy(head)
        head.writeUInt32BE(meta.length, MAGIC.length)
        const data = Buffer.concat([head, meta, r.value])
        const partitionKey = r.key ?? 'weir'
        if (r.key !== undefined && (r.key.length === 0 || r.key.length > 256)) {
          throw new WeirError(
            `stream topic "${topic}": record ${i} has a key of ${r.key.length} characters; Kinesis takes 1 to 256`,
            { code: 'STREAM_RECORD', stage: 'stream' },
          )
        }
        if (data.length + Buffer.byteLength(partitionKey) > RECORD_BYTES) {
          throw new WeirError(
            `stream topic "${topic}": record ${i} is ${data.length} bytes, over the 1 MiB Kinesis takes; split it at the source`,
            { code: 'STREAM_RECORD', stage: 'stream' },
          )
        }
        return {
          Data: data,
          PartitionKey: partitionKey,
          ...(r.key === undefined ? { ExplicitHashKey: keyless } : {}),
        }
      })
      const out: Position[] = new Array(records.length)
      // Chunks go one after another so that a key's records reach their shard in order.
      for (let from = 0; from < entries.length; ) {
        let to = from
        let bytes = 0
        while (to < entries.length && to - from < PUT_RECORDS) {
          const size = entries[to]!.Data!.length + entries[to]!.PartitionKey!.length
          if (to > from && bytes + size > PUT_BYTES) break
          bytes += size
          to++
        }
        await putWithRetry(from, to)
        from = to
      }
      return out

      /**
       * Sends entries [from, to) and sends again, with backoff, those Kinesis refused (throttling,
       * internal errors). A refused record sent again lands after records of its key that were
       * accepted in the same call: order within a key holds unless Kinesis refuses part of a call.
       */
      async function putWithRetry(from: number, to: number) {
        let todo = Array.from({ length: to - from }, (_, k) => from + k)
        for (let attempt = 0; ; attempt++) {
          const r = await send(`writing ${todo.length} records to ${name}`, () =>
            client.send(
              new sdk.PutRecordsCommand({ StreamName: name, Records: todo.map((i) => entries[i]!) }),
            ),
          )
          const failed: number[] = []
          let reason = ''
          for (const [k, res] of (r.Records ?? []).entries()) {
            const i = todo[k]!
            if (res.SequenceNumber && !res.ErrorCode)
              out[i] = { partition: res.ShardId!, offset: res.SequenceNumber }
            else {
              failed.push(i)
              reason ||= `${res.ErrorCode}: ${res.ErrorMessage}`
            }
          }
          if (failed.length === 0) return
          if (attempt >= RETRIES) {
            throw new WeirError(
              `stream (Kinesis): ${name} refused ${failed.length} records after ${RETRIES} retries (${reason}); add shards or slow the source`,
              { code: 'STREAM_KINESIS', stage: 'stream', retryable: true },
            )
          }
          todo = failed
          await sleep(Math.random() * Math.min(5_000, 100 * 2 ** attempt))
        }
      }
    },

    async consumer(group, topics, options: ConsumerOptions = {}) {
      if (options.partitions) throw unassignable('Kinesis (shard leases are not built yet)')
      const saved = (await o.checkpoints.get<Checkpoint>(checkpointName(group))) ?? {}
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
          typeof start === 'object' && 'from' in start
            ? start.from.find((p) => p.partition === shard)
            : undefined
        const spec = at
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, StartingSequenceNumber: at }
          : isNew
            ? { ShardIteratorType: 'TRIM_HORIZON' as const }
            : iteratorStart(start, from)
        const r = await send(`opening ${streamName(topic)}/${shard}`, () =>
          client.send(
            new sdk.GetShardIteratorCommand({ StreamName: streamName(topic), ShardId: shard, ...spec }),
          ),
        )
        return r.ShardIterator
      }
      /** Adds shards not yet followed; shards that appear later are children, read from their start. */
      const discover = async (isNew: boolean) => {
        for (const topic of topics) {
          await ensure(topic)
          for (const shard of await listShards(streamName(topic))) {
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
            if (
              !finished(s.topic, s.shard.ParentShardId) ||
              !finished(s.topic, s.shard.AdjacentParentShardId)
            )
              continue
            // An empty answer can still be behind (a gap in the shard): ask a few times before moving on.
            for (let tries = 0; tries < 5 && out.length < maxRecords && s.iterator; tries++) {
              const r = await client
                .send(
                  new sdk.GetRecordsCommand({
                    ShardIterator: s.iterator,
                    Limit: Math.min(10_000, maxRecords - out.length),
                  }),
                )
                .catch(async (err: Error) => {
                  // Iterators expire after five minutes: take a new one from the last record seen.
                  if (err.name !== 'ExpiredIteratorException')
                    throw fail(`reading ${streamName(s.topic)}`, err)
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
          await o.checkpoints.put(checkpointName(group), saved)
        },
        async close() {},
      } satisfies Consumer
    },

    async groups() {
      const out: GroupStatus[] = []
      for (const doc of await o.checkpoints.list('stream/kinesis')) {
        const group = doc.slice('stream/kinesis/'.length)
        const saved = (await o.checkpoints.get<Checkpoint>(doc)) ?? {}
        for (const [topic, shards] of Object.entries(saved)) {
          for (const shard of await listShards(streamName(topic))) {
            const committed = shards[shard.ShardId!]
            // How far behind: GetRecords from the checkpoint says so in MillisBehindLatest.
            const it = await client.send(
              new sdk.GetShardIteratorCommand({
                StreamName: streamName(topic),
                ShardId: shard.ShardId!,
                ...(committed
                  ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: committed }
                  : { ShardIteratorType: 'TRIM_HORIZON' }),
              }),
            )
            const r = await client.send(
              new sdk.GetRecordsCommand({ ShardIterator: it.ShardIterator, Limit: 1 }),
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
    },

    async *readSince(topic, since) {
      await ensure(topic)
      const name = streamName(topic)
      const from = since - CLOCK_SKEW_MS
      for (const shard of await listShards(name)) {
        const iteratorOf = (
          spec:
            | { ShardIteratorType: 'AT_TIMESTAMP'; Timestamp: Date }
            | { ShardIteratorType: 'TRIM_HORIZON' },
          signal?: AbortSignal,
        ) =>
          client.send(
            new sdk.GetShardIteratorCommand({ StreamName: name, ShardId: shard.ShardId!, ...spec }),
            signal ? { abortSignal: signal } : {},
          )
        // kinesalite never answers AT_TIMESTAMP on a shard with nothing after the time (AWS does):
        // past a few seconds, read the shard from its start, keeping only what arrived since.
        const first = await send(`opening ${name}/${shard.ShardId}`, () =>
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
          const r = await send(`reading ${name}`, () =>
            client.send(new sdk.GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 })),
          )
          const got = (r.Records ?? [])
            .filter((rec) => (rec.ApproximateArrivalTimestamp?.getTime() ?? from) >= from)
            .map((rec) => deliver(topic, shard.ShardId!, rec))
          if (got.length) yield got
          if (!r.Records?.length && (r.MillisBehindLatest ?? 0) === 0) break
          it = r.NextShardIterator
        }
      }
    },

    async topics() {
      const names: string[] = []
      let start: string | undefined
      for (;;) {
        const r = await send('listing streams', () =>
          client.send(new sdk.ListStreamsCommand(start ? { ExclusiveStartStreamName: start } : {})),
        )
        for (const n of r.StreamNames ?? [])
          if (n.startsWith(`${prefix}-`)) names.push(n.slice(prefix.length + 1))
        if (!r.HasMoreStreams || !r.StreamNames?.length) return names
        start = r.StreamNames.at(-1)
      }
    },

    async close() {
      client.destroy()
    },
  }
}

function iteratorStart(start: StartAt, from: Position | undefined) {
  if (start === 'earliest') return { ShardIteratorType: 'TRIM_HORIZON' as const }
  if (start === 'latest') return { ShardIteratorType: 'LATEST' as const }
  if ('time' in start) return { ShardIteratorType: 'AT_TIMESTAMP' as const, Timestamp: new Date(start.time) }
  return from
    ? { ShardIteratorType: 'AT_SEQUENCE_NUMBER' as const, StartingSequenceNumber: from.offset }
    : { ShardIteratorType: 'TRIM_HORIZON' as const }
}

function deliver(topic: string, shard: string, rec: _Record): Delivery {
  const data = Buffer.from(rec.Data ?? new Uint8Array())
  const base = { topic, partition: shard, offset: rec.SequenceNumber! }
  if (data.length >= MAGIC.length + 4 && data.subarray(0, MAGIC.length).equals(MAGIC)) {
    const len = data.readUInt32BE(MAGIC.length)
    const meta = JSON.parse(data.toString('utf8', MAGIC.length + 4, MAGIC.length + 4 + len)) as {
      t: number
      h: Record<string, string>
      k?: string
    }
    return {
      ...base,
      key: meta.k,
      value: data.subarray(MAGIC.length + 4 + len),
      timestamp: meta.t,
      headers: meta.h,
    }
  }
  return {
    ...base,
    key: rec.PartitionKey,
    value: data,
    timestamp: rec.ApproximateArrivalTimestamp?.getTime() ?? Date.now(),
    headers: {},
  }
}
