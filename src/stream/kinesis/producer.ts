import { setTimeout as sleep } from 'node:timers/promises'
import { WeirError } from '../../core/errors.js'
import type { Position, StreamRecordInput } from '../stream.js'
import type { KinesisAdmin } from './admin.js'
import { encodeEntry } from './envelope.js'

/** Kinesis's limits: 500 records and 5 MiB per PutRecords. */
const PUT_RECORDS = 500
const PUT_BYTES = 5 * 1024 * 1024
const RETRIES = 10

/**
 * Publishes records to a topic's stream in PutRecords calls within Kinesis's limits, one after
 * another so that a key's records reach their shard in order, sending again what Kinesis refused.
 */
export async function publish(
  a: KinesisAdmin,
  topic: string,
  records: readonly StreamRecordInput[],
): Promise<Position[]> {
  const t = await a.ensure(topic)
  const name = a.streamName(topic)
  // A keyless publish goes whole to one shard, in turn, by its explicit hash key.
  const keyless = t.open[t.next++ % t.open.length]!.HashKeyRange!.StartingHashKey!
  const now = Date.now()
  const entries = records.map((r, i) => encodeEntry(topic, r, i, now, keyless))
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
      const r = await a.send(`writing ${todo.length} records to ${name}`, () =>
        a.client.send(
          new a.sdk.PutRecordsCommand({ StreamName: name, Records: todo.map((i) => entries[i]!) }),
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
}
