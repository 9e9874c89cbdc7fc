import type { Delivery, StreamRecordInput } from './stream.js'

/**
 * Remote streams (Kinesis, NATS batches) carry a record's headers, key and timestamp in an envelope
 * before its value: this magic, a u32 length, JSON `{t, h, k}`, then the value. Data from other
 * producers (no magic) is delivered as it is.
 */
const MAGIC = Buffer.from([0x00, 0x57, 0x31])
/** The magic and the u32 length of the JSON that follows. */
const HEAD = MAGIC.length + 4

/** A record with its envelope, as remote streams store it. */
export function wrap(r: StreamRecordInput, now: number): Buffer {
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
  return Buffer.concat([head, meta, r.value])
}

/** A stored record as delivered: its envelope read, or, without one, the data as value with what the stream knows. */
export function unwrap(
  data: Buffer,
  base: { topic: string; partition: string; offset: string },
  key: string | undefined,
  arrival: number,
): Delivery {
  // Compared byte by byte and built field by field: this runs for every record consumed.
  if (data.length >= HEAD && data[0] === MAGIC[0] && data[1] === MAGIC[1] && data[2] === MAGIC[2]) {
    const end = HEAD + data.readUInt32BE(MAGIC.length)
    const meta = JSON.parse(data.toString('utf8', HEAD, end)) as {
      t: number
      h: Record<string, string>
      k?: string
    }
    return {
      topic: base.topic,
      partition: base.partition,
      offset: base.offset,
      key: meta.k,
      value: data.subarray(end),
      timestamp: meta.t,
      headers: meta.h,
    }
  }
  return { ...base, key, value: data, timestamp: arrival, headers: {} }
}

/** Records one message of a remote stream may hold: its offsets' last three digits number them. */
export const RECORDS_PER_MESSAGE = 1_000

/**
 * The offset of a record packed in a message of a remote stream (a Kinesis aggregate, a NATS
 * batch): the message's sequence number and the record's place in it, three digits (`…1234` +
 * `007`), so offsets stay decimal strings that order as numbers do.
 */
export function userOffset(sequence: string | number, sub: number): string {
  return `${sequence}${String(sub).padStart(3, '0')}`
}

/** The sequence number of the message a record's offset is in. */
export function sequenceOf(offset: string): string {
  return offset.slice(0, -3) || '0'
}

/** A record's place in its message. */
export function subOf(offset: string): number {
  return Number(offset.slice(-3))
}
