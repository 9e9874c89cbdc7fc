import { crc32 } from 'node:zlib'
import type { Delivery, StreamRecordInput } from '../stream.js'

/**
 * A publish is written as one batch: u32 length of the rest | u32 crc32 of the rest | u32 record
 * count | records. A record is u32 length of the rest | f64 timestamp | u16 key length (0xffff: no
 * key) | u32 headers length | key | headers JSON | value.
 *
 * One checksum per batch rather than per record: a batch is acknowledged (fsynced) as a whole, so
 * it is also the unit a crash can tear, and checksumming 280 KB once costs a fraction of 500
 * checksum calls of 560 bytes. Reopening cuts the log at the first batch whose checksum fails.
 */
export const BATCH_HEADER = 12
const RECORD_HEADER = 4
const META = 14
const EMPTY: Buffer = Buffer.alloc(0)

export interface EncodedBatch {
  readonly buf: Buffer
  /** Where each record starts in `buf`. */
  readonly positions: readonly number[]
  /** Newest record time, for age retention. */
  readonly lastTs: number
}

/**
 * Encodes a publish into one batch. Records of one publish usually share their headers object, so
 * its JSON is encoded once per run of equal references rather than once per record.
 */
export function encode(records: readonly StreamRecordInput[], now: number): EncodedBatch {
  let lastHeaders: unknown
  let lastJson: Buffer = EMPTY
  let lastTs = 0
  let total = BATCH_HEADER
  const keys: Buffer[] = new Array(records.length)
  const headers: Buffer[] = new Array(records.length)
  for (const [i, r] of records.entries()) {
    if (r.headers !== lastHeaders) {
      lastHeaders = r.headers
      lastJson = Buffer.from(JSON.stringify(r.headers ?? {}))
    }
    const key = r.key === undefined ? EMPTY : Buffer.from(r.key)
    if (key.length >= 0xffff)
      throw new RangeError(`a partition key of ${key.length} bytes is over the 65,534 allowed`)
    keys[i] = key
    headers[i] = lastJson
    total += RECORD_HEADER + META + key.length + lastJson.length + r.value.byteLength
  }
  const buf = Buffer.allocUnsafe(total)
  const positions: number[] = new Array(records.length)
  let pos = BATCH_HEADER
  for (const [i, r] of records.entries()) {
    const key = keys[i]!
    const hdr = headers[i]!
    const size = RECORD_HEADER + META + key.length + hdr.length + r.value.byteLength
    const rest = pos + RECORD_HEADER
    const ts = r.timestamp ?? now
    if (ts > lastTs) lastTs = ts
    positions[i] = pos
    buf.writeUInt32BE(size - RECORD_HEADER, pos)
    buf.writeDoubleBE(ts, rest)
    buf.writeUInt16BE(r.key === undefined ? 0xffff : key.length, rest + 8)
    buf.writeUInt32BE(hdr.length, rest + 10)
    key.copy(buf, rest + META)
    hdr.copy(buf, rest + META + key.length)
    buf.set(r.value, rest + META + key.length + hdr.length)
    pos += size
  }
  buf.writeUInt32BE(total - 8, 0)
  buf.writeUInt32BE(records.length, 8)
  buf.writeUInt32BE(crc32(buf.subarray(8)), 4)
  return { buf, positions, lastTs }
}

/**
 * Walks the complete batches at the start of `buf`, calling `onRecord` with each record's position
 * and timestamp; returns how many bytes the batches take. With `verify`, stops at the first batch
 * whose checksum does not match (a torn or corrupt tail).
 */
export function scan(buf: Buffer, verify: boolean, onRecord: (pos: number, ts: number) => void): number {
  let pos = 0
  while (pos + BATCH_HEADER <= buf.length) {
    const len = buf.readUInt32BE(pos)
    const end = pos + 8 + len
    if (len < 4 || end > buf.length) break
    if (verify && crc32(buf.subarray(pos + 8, end)) !== buf.readUInt32BE(pos + 4)) break
    const count = buf.readUInt32BE(pos + 8)
    let r = pos + BATCH_HEADER
    for (let i = 0; i < count; i++) {
      onRecord(r, buf.readDoubleBE(r + RECORD_HEADER))
      r += RECORD_HEADER + buf.readUInt32BE(r)
    }
    pos = end
  }
  return pos
}

/**
 * Decodes `count` records from `buf`, the i-th starting at `at(i)` (records of consecutive batches
 * are not contiguous: a batch header sits between them). Equal headers JSON is parsed once and shared.
 */
export function decode(
  buf: Buffer,
  topic: string,
  partition: string,
  firstOffset: number,
  count: number,
  at: (i: number) => number,
): Delivery[] {
  const out: Delivery[] = new Array(count)
  let lastRaw: Buffer = EMPTY
  let lastHeaders: Readonly<Record<string, string>> = {}
  for (let i = 0; i < count; i++) {
    const pos = at(i)
    const len = buf.readUInt32BE(pos)
    const rest = pos + RECORD_HEADER
    const timestamp = buf.readDoubleBE(rest)
    const keyLen = buf.readUInt16BE(rest + 8)
    const hdrLen = buf.readUInt32BE(rest + 10)
    const k = keyLen === 0xffff ? 0 : keyLen
    const key = keyLen === 0xffff ? undefined : buf.toString('utf8', rest + META, rest + META + k)
    const raw = buf.subarray(rest + META + k, rest + META + k + hdrLen)
    if (!raw.equals(lastRaw)) {
      lastRaw = raw
      lastHeaders = JSON.parse(raw.toString('utf8')) as Record<string, string>
    }
    const value = buf.subarray(rest + META + k + hdrLen, rest + len)
    out[i] = {
      topic,
      partition,
      offset: String(firstOffset + i),
      key,
      value,
      timestamp,
      headers: lastHeaders,
    }
  }
  return out
}
