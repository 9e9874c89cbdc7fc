import type { _Record, PutRecordsRequestEntry } from '@aws-sdk/client-kinesis'
import { WeirError } from '../../core/errors.js'
import { unwrap, userOffset, wrap } from '../envelope.js'
import type { Delivery, StreamRecordInput } from '../stream.js'
import { deaggregate } from './aggregation.js'

/** Kinesis's limit per record (data and partition key): 1 MiB. */
const RECORD_BYTES = 1024 * 1024
/** One record as a PutRecords entry; keyless records go to the shard whose hash key is `keyless`. */
export function encodeEntry(
  topic: string,
  r: StreamRecordInput,
  i: number,
  now: number,
  keyless: string,
): PutRecordsRequestEntry {
  const data = wrap(r, now)
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
