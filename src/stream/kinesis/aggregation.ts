import { createHash } from 'node:crypto'
import { gunzipSync, gzipSync } from 'node:zlib'

/**
 * The Kinesis Producer Library's aggregated record, so AWS's own deaggregation (Lambda's
 * `aws-kinesis-agg`, the KCL, Firehose) reads what Weir writes: the magic, a protobuf
 * `AggregatedRecord { repeated string partition_key_table = 1; repeated string
 * explicit_hash_key_table = 2; repeated Record records = 3 }` with `Record { uint64
 * partition_key_index = 1; uint64 explicit_hash_key_index = 2; bytes data = 3; repeated Tag tags = 4 }`,
 * then the MD5 of the protobuf bytes. Two message types with a fixed schema: written here rather
 * than with aws-kinesis-agg, which brings protobufjs, async, lodash and a base64 record API.
 * test/stream/kinesis-aggregation.test.ts checks both ways against aws-kinesis-agg itself.
 */
const KPL_MAGIC = Buffer.from([0xf3, 0x89, 0x9a, 0xc2])
/** Weir's own: a gzip of an aggregated record (only Weir reads it; the option says so). */
const GZIP_MAGIC = Buffer.from([0x00, 0x57, 0x5a])

export interface UserRecord {
  readonly key: string
  readonly data: Buffer
}

/** The aggregated record's bytes for these user records (which must all go to one shard). */
export function aggregate(records: readonly UserRecord[], gzip = false): Buffer {
  const keys = new Map<string, number>()
  for (const r of records) if (!keys.has(r.key)) keys.set(r.key, keys.size)
  const parts: Buffer[] = []
  for (const k of keys.keys()) parts.push(field(1, Buffer.from(k)))
  for (const r of records) {
    const rec = Buffer.concat([tag(1, 0), varint(keys.get(r.key)!), field(3, r.data)])
    parts.push(field(3, rec))
  }
  const body = Buffer.concat(parts)
  const kpl = Buffer.concat([KPL_MAGIC, body, createHash('md5').update(body).digest()])
  return gzip ? Buffer.concat([GZIP_MAGIC, gzipSync(kpl)]) : kpl
}

/**
 * The user records in a Kinesis record's data, or undefined when it is not an aggregate (or its
 * checksum does not match: then it is a record that happens to start with the magic, as the KCL
 * treats it).
 */
export function deaggregate(data: Buffer): UserRecord[] | undefined {
  if (startsWith(data, GZIP_MAGIC)) data = gunzipSync(data.subarray(GZIP_MAGIC.length))
  if (!startsWith(data, KPL_MAGIC) || data.length < KPL_MAGIC.length + 16) return undefined
  const body = data.subarray(KPL_MAGIC.length, data.length - 16)
  if (
    !createHash('md5')
      .update(body)
      .digest()
      .equals(data.subarray(data.length - 16))
  )
    return undefined
  const keys: string[] = []
  const out: UserRecord[] = []
  for (const [n, value] of fields(body)) {
    if (n === 1) keys.push((value as Buffer).toString('utf8'))
    if (n !== 3) continue
    let key = 0
    let bytes: Buffer = Buffer.alloc(0)
    for (const [m, v] of fields(value as Buffer)) {
      if (m === 1) key = v as number
      else if (m === 3) bytes = v as Buffer
    }
    out.push({ key: keys[key] ?? '', data: bytes })
  }
  return out
}

function startsWith(data: Buffer, magic: Buffer): boolean {
  return data.length >= magic.length && data.subarray(0, magic.length).equals(magic)
}

/** Protobuf fields as [number, value]: varints as numbers, length-delimited as bytes; others skipped. */
function* fields(buf: Buffer): Generator<[number, number | Buffer]> {
  for (let at = 0; at < buf.length; ) {
    const [key, k] = readVarint(buf, at)
    at = k
    const type = key & 7
    const n = key >>> 3
    if (type === 0) {
      const [v, next] = readVarint(buf, at)
      at = next
      yield [n, v]
    } else if (type === 2) {
      const [len, next] = readVarint(buf, at)
      yield [n, buf.subarray(next, next + len)]
      at = next + len
    } else if (type === 1) at += 8
    else if (type === 5) at += 4
    else throw new Error(`aggregated record: wire type ${type} is not protobuf`)
  }
}

function readVarint(buf: Buffer, at: number): [number, number] {
  let v = 0
  let mul = 1
  for (;;) {
    if (at >= buf.length) throw new Error('aggregated record: truncated')
    const b = buf[at++]!
    v += (b & 0x7f) * mul
    if (b < 0x80) return [v, at]
    mul *= 128
  }
}

function varint(n: number): Buffer {
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n % 128) | 0x80)
    n = Math.floor(n / 128)
  }
  out.push(n)
  return Buffer.from(out)
}

const tag = (n: number, type: number) => varint((n << 3) | type)
const field = (n: number, bytes: Buffer) => Buffer.concat([tag(n, 2), varint(bytes.length), bytes])
