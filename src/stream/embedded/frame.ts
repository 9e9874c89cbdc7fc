import { crc32 } from 'node:zlib'
import type { Delivery, StreamRecordInput } from '../stream.js'

/**
 * Frame layout: u32 length of the rest | u32 crc32 of the rest | rest, where rest is
 * f64 timestamp | u16 key length (0xffff: no key) | u32 headers length | key | headers JSON | value.
 * The checksum lets reopening find a torn tail left by a crash mid-write and cut it off.
 */
export const HEADER = 8
const META = 14
const EMPTY: Buffer = Buffer.alloc(0)

/**
 * Encodes a publish into one buffer of frames. Records of one batch usually share their headers
 * object, so its JSON is encoded once per run of equal references rather than once per record.
 */
export function encode(
  records: readonly StreamRecordInput[],
  now: number,
): { buf: Buffer; sizes: number[]; lastTs: number } {
  let lastHeaders: unknown
  let lastJson: Buffer = EMPTY
  let lastTs = 0
  const parts = records.map((r) => {
    if (r.headers !== lastHeaders) {
      lastHeaders = r.headers
      lastJson = Buffer.from(JSON.stringify(r.headers ?? {}))
    }
    const key = r.key === undefined ? EMPTY : Buffer.from(r.key)
    if (key.length >= 0xffff)
      throw new RangeError(`a partition key of ${key.length} bytes is over the 65,534 allowed`)
    return {
      r,
      key,
      headers: lastJson,
      size: HEADER + META + key.length + lastJson.length + r.value.byteLength,
    }
  })
  const buf = Buffer.allocUnsafe(parts.reduce((n, p) => n + p.size, 0))
  let pos = 0
  for (const { r, key, headers, size } of parts) {
    const rest = pos + HEADER
    const ts = r.timestamp ?? now
    lastTs = Math.max(lastTs, ts)
    buf.writeUInt32BE(size - HEADER, pos)
    buf.writeDoubleBE(ts, rest)
    buf.writeUInt16BE(r.key === undefined ? 0xffff : key.length, rest + 8)
    buf.writeUInt32BE(headers.length, rest + 10)
    key.copy(buf, rest + META)
    headers.copy(buf, rest + META + key.length)
    buf.set(r.value, rest + META + key.length + headers.length)
    buf.writeUInt32BE(crc32(buf.subarray(rest, pos + size)), pos + 4)
    pos += size
  }
  return { buf, sizes: parts.map((p) => p.size), lastTs }
}

/**
 * Walks the complete frames at the start of `buf`; returns how many bytes they take. With `verify`,
 * stops at the first frame whose checksum does not match (a torn or corrupt tail).
 */
export function scan(buf: Buffer, verify: boolean, onFrame: (pos: number, ts: number) => void): number {
  let pos = 0
  while (pos + HEADER <= buf.length) {
    const len = buf.readUInt32BE(pos)
    if (len < META || pos + HEADER + len > buf.length) break
    if (verify && crc32(buf.subarray(pos + HEADER, pos + HEADER + len)) !== buf.readUInt32BE(pos + 4)) break
    onFrame(pos, buf.readDoubleBE(pos + HEADER))
    pos += HEADER + len
  }
  return pos
}

/** Decodes `count` consecutive frames from `buf`; equal headers JSON is parsed once and shared. */
export function decode(
  buf: Buffer,
  topic: string,
  partition: string,
  firstOffset: number,
  count: number,
): Delivery[] {
  const out: Delivery[] = []
  let pos = 0
  let lastRaw: Buffer = EMPTY
  let lastHeaders: Readonly<Record<string, string>> = {}
  for (let i = 0; i < count; i++) {
    const len = buf.readUInt32BE(pos)
    const rest = pos + HEADER
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
    out.push({
      topic,
      partition,
      offset: String(firstOffset + i),
      key,
      value,
      timestamp,
      headers: lastHeaders,
    })
    pos += HEADER + len
  }
  return out
}
