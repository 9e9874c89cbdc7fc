import type { JsMsg } from '@nats-io/jetstream'
import { WeirError } from '../../core/errors.js'
import { RECORDS_PER_MESSAGE, unwrap, userOffset, wrap } from '../envelope.js'
import type { Delivery, StreamRecordInput } from '../stream.js'

/** The header of a message that holds a batch of Weir's records: how many. */
export const BATCH_HEADER = 'weir-n'

/** A message to publish: records packed back to back, and which of the publish's records they are. */
export interface Packed {
  readonly data: Buffer
  readonly indexes: number[]
}

/**
 * Packs one partition's records into as few messages as fit: JetStream stores and acknowledges a
 * message at a time, and one message a record bounded publish and consume at about 25,000 records/s
 * on loopback with the server on half a core (measured). Each record is a u32 length and its
 * envelope; a message holds at most a thousand records (three offset digits) and `maxBytes`.
 */
export function pack(
  topic: string,
  records: readonly StreamRecordInput[],
  indexes: readonly number[],
  maxBytes: number,
  now: number,
): Packed[] {
  const out: Packed[] = []
  let parts: Buffer[] = []
  let mine: number[] = []
  let size = 0
  const flush = () => {
    if (mine.length) out.push({ data: Buffer.concat(parts, size), indexes: mine })
    parts = []
    mine = []
    size = 0
  }
  for (const i of indexes) {
    const body = wrap(records[i]!, now)
    if (body.length + 4 > maxBytes) {
      throw new WeirError(
        `stream topic "${topic}": record ${i} is ${body.length} bytes, over the ${maxBytes} a NATS message may hold (the server's max_payload); split it at the source or raise max_payload`,
        { code: 'STREAM_RECORD', stage: 'stream' },
      )
    }
    if (size + body.length + 4 > maxBytes || mine.length === RECORDS_PER_MESSAGE) flush()
    const len = Buffer.allocUnsafe(4)
    len.writeUInt32BE(body.length)
    parts.push(len, body)
    mine.push(i)
    size += body.length + 4
  }
  flush()
  return out
}

/**
 * The records of a JetStream message: a Weir batch unpacked, or one record with its headers (what
 * another producer, or Weir before batches, published), each at its offset (sequence + place).
 */
export function unpack(topic: string, partition: string, m: JsMsg): Delivery[] {
  const n = Number(m.headers?.get(BATCH_HEADER) || 0)
  if (!n) {
    const h: Record<string, string> = {}
    for (const key of m.headers?.keys() ?? []) if (!key.startsWith('weir-')) h[key] = m.headers!.get(key)
    return [
      {
        topic,
        partition,
        offset: userOffset(m.seq, 0),
        key: m.headers?.get('weir-key') || undefined,
        value: m.data,
        timestamp: Number(m.headers?.get('weir-ts') || Number(m.timestampNanos / 1_000_000n)),
        headers: h,
      },
    ]
  }
  const data = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength)
  const arrival = Number(m.timestampNanos / 1_000_000n)
  const out: Delivery[] = []
  for (let at = 0; at < data.length; ) {
    const len = data.readUInt32BE(at)
    const base = { topic, partition, offset: userOffset(m.seq, out.length) }
    out.push(unwrap(data.subarray(at + 4, at + 4 + len), base, undefined, arrival))
    at += 4 + len
  }
  return out
}

/** How many records a message holds, from its headers alone. */
export function recordsIn(headers: { get(k: string): string } | undefined): number {
  return Number(headers?.get(BATCH_HEADER) || 1)
}
