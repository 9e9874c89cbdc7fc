import type { _Record, PutRecordsRequestEntry } from '@aws-sdk/client-kinesis'
import { WeirError } from '../../core/errors.js'
import type { Delivery, StreamRecordInput } from '../stream.js'
import { deaggregate } from './aggregation.js'

/** Kinesis's limit per record (data and partition key): 1 MiB. */
const RECORD_BYTES = 1024 * 1024
/**
 * Records Weir publishes carry their headers and timestamp in an envelope: this magic, a u32 length,
 * JSON `{t, h, k}`, then the value. Records from other producers (no magic) are delivered as they are.
 */
const MAGIC = Buffer.from([0x00, 0x57, 0x31])

/** One record as a PutRecords entry; keyless records go to the shard whose hash key is `keyless`. */
export function encodeEntry(
  topic: string,
  r: StreamRecordInput,
  i: number,
  now: number,
  keyless: string,
): PutRecordsRequestEntry {
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
}

/**
 * The offset of a user record: the Kinesis sequence number and its place in an aggregated record,
 * three digits (`…1234` + `007`), so offsets stay decimal strings that order as numbers do.
 */
export function userOffset(sequence: string, sub: number): string {
  return `${sequence}${String(sub).padStart(3, '0')}`
}

/** The Kinesis sequence number a user record's offset is in. */
export function sequenceOf(offset: string): string {
  return offset.slice(0, -3)
}

/** The records a Kinesis record holds: the user records of an aggregate, or itself. */
export function deliver(topic: string, shard: string, rec: _Record): Delivery[] {
  const data = Buffer.from(rec.Data ?? new Uint8Array())
  const users = deaggregate(data)
  const arrival = rec.ApproximateArrivalTimestamp?.getTime() ?? Date.now()
  const seq = rec.SequenceNumber!
  if (!users)
    return [unwrap(data, { topic, partition: shard, offset: userOffset(seq, 0) }, rec.PartitionKey, arrival)]
  return users.map((u, i) =>
    unwrap(u.data, { topic, partition: shard, offset: userOffset(seq, i) }, u.key, arrival),
  )
}

function unwrap(
  data: Buffer,
  base: { topic: string; partition: string; offset: string },
  key: string | undefined,
  arrival: number,
): Delivery {
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
  return { ...base, key, value: data, timestamp: arrival, headers: {} }
}
