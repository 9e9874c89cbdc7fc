import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { PutRecordsRequestEntry, Shard } from '@aws-sdk/client-kinesis'
import { WeirError } from '../../core/errors.js'
import { userOffset } from '../envelope.js'
import type { Position, StreamRecordInput } from '../stream.js'
import type { KinesisAdmin } from './admin.js'
import { aggregate } from './aggregation.js'
import { encodeEntry } from './envelope.js'

/** Kinesis's limits: 500 records and 5 MiB per PutRecords. */
const PUT_RECORDS = 500
const PUT_BYTES = 5 * 1024 * 1024
const RETRIES = 10
/**
 * An aggregated record holds up to this many bytes and user records (three digits of offset). Far
 * under Kinesis's 1 MiB, so a GetRecords of 10,000 records stays within its 10 MiB.
 */
const AGGREGATE_BYTES = 256 * 1024
const AGGREGATE_RECORDS = 999

export interface PublishOptions {
  /** KPL aggregation: several records per Kinesis record, all bound for the same shard. */
  readonly aggregate: boolean
  /** Gzip each aggregated record (only Weir reads it then). */
  readonly gzip: boolean
}

/** One Kinesis record to put, and the published records it carries (their indexes, in order). */
interface Put {
  readonly entry: PutRecordsRequestEntry
  readonly records: readonly number[]
}

/**
 * Publishes records to a topic's stream in PutRecords calls within Kinesis's limits, one after
 * another so that a key's records reach their shard in order, sending again what Kinesis refused.
 * With aggregation, the records bound for one shard travel together in KPL aggregated records:
 * a shard takes 1,000 Kinesis records a second, so one record each capped it at 1,000 of Weir's.
 */
export async function publish(
  a: KinesisAdmin,
  topic: string,
  records: readonly StreamRecordInput[],
  o: PublishOptions = { aggregate: true, gzip: false },
): Promise<Position[]> {
  const t = await a.ensure(topic)
  const name = a.streamName(topic)
  // A keyless publish goes whole to one shard, in turn, by its explicit hash key.
  const keyless = t.open[t.next++ % t.open.length]!.HashKeyRange!.StartingHashKey!
  const now = Date.now()
  const entries = records.map((r, i) => encodeEntry(topic, r, i, now, keyless))
  const puts = o.aggregate
    ? aggregated(entries, t.open, o.gzip)
    : entries.map((entry, i) => ({ entry, records: [i] }))
  const out: Position[] = new Array(records.length)
  // Chunks go one after another so that a key's records reach their shard in order.
  for (let from = 0; from < puts.length; ) {
    let to = from
    let bytes = 0
    while (to < puts.length && to - from < PUT_RECORDS) {
      const size = puts[to]!.entry.Data!.length + puts[to]!.entry.PartitionKey!.length
      if (to > from && bytes + size > PUT_BYTES) break
      bytes += size
      to++
    }
    await putWithRetry(from, to)
    from = to
  }
  return out

  /**
   * Sends puts [from, to) and sends again, with backoff, those Kinesis refused (throttling,
   * internal errors). A refused record sent again lands after records of its key that were
   * accepted in the same call: order within a key holds unless Kinesis refuses part of a call.
   */
  async function putWithRetry(from: number, to: number) {
    let todo = Array.from({ length: to - from }, (_, k) => from + k)
    for (let attempt = 0; ; attempt++) {
      const r = await a.send(`writing ${todo.length} records to ${name}`, () =>
        a.client.send(
          new a.sdk.PutRecordsCommand({ StreamName: name, Records: todo.map((i) => puts[i]!.entry) }),
        ),
      )
      const failed: number[] = []
      let reason = ''
      for (const [k, res] of (r.Records ?? []).entries()) {
        const i = todo[k]!
        if (res.SequenceNumber && !res.ErrorCode) {
          for (const [sub, n] of puts[i]!.records.entries())
            out[n] = { partition: res.ShardId!, offset: userOffset(res.SequenceNumber, sub) }
        } else {
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
}

/**
 * The entries grouped by the shard each would go to (its explicit hash key, or the MD5 of its
 * partition key, in the shard's hash key range), in aggregated records of at most
 * AGGREGATE_BYTES and AGGREGATE_RECORDS, each pinned to its shard by an explicit hash key.
 */
function aggregated(
  entries: readonly PutRecordsRequestEntry[],
  open: readonly Shard[],
  gzip: boolean,
): Put[] {
  const ranges = open.map((s) => ({
    start: BigInt(s.HashKeyRange!.StartingHashKey!),
    end: BigInt(s.HashKeyRange!.EndingHashKey!),
  }))
  const shardOf = (e: PutRecordsRequestEntry) => {
    const h = BigInt(
      e.ExplicitHashKey ?? `0x${createHash('md5').update(e.PartitionKey!, 'utf8').digest('hex')}`,
    )
    const i = ranges.findIndex((r) => h >= r.start && h <= r.end)
    return i < 0 ? 0 : i
  }
  const puts: Put[] = []
  const groups = new Map<number, { records: number[]; bytes: number }>()
  const close = (shard: number) => {
    const g = groups.get(shard)
    if (!g?.records.length) return
    groups.delete(shard)
    const first = entries[g.records[0]!]!
    puts.push({
      entry: {
        Data: aggregate(
          g.records.map((i) => ({ key: entries[i]!.PartitionKey!, data: Buffer.from(entries[i]!.Data!) })),
          gzip,
        ),
        PartitionKey: first.PartitionKey!,
        ExplicitHashKey: String(ranges[shard]!.start),
      },
      records: g.records,
    })
  }
  for (const [i, e] of entries.entries()) {
    const shard = shardOf(e)
    const size = e.Data!.length + e.PartitionKey!.length + 8
    const g = groups.get(shard)
    if (g && (g.records.length >= AGGREGATE_RECORDS || g.bytes + size > AGGREGATE_BYTES)) close(shard)
    const cur = groups.get(shard) ?? { records: [], bytes: 0 }
    cur.records.push(i)
    cur.bytes += size
    groups.set(shard, cur)
  }
  for (const shard of [...groups.keys()]) close(shard)
  return puts
}
