import { type FileHandle, mkdir, open, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { WeirError } from '../../core/errors.js'
import type {
  Consumer,
  ConsumerOptions,
  Delivery,
  GroupStatus,
  StartAt,
  Stream,
  StreamRecordInput,
} from '../stream.js'

/**
 * Frame layout: u32 length of the rest | u32 crc32 of the rest | rest, where rest is
 * f64 timestamp | u16 key length | u32 headers length | key | headers JSON | value.
 * The checksum lets reopening find a torn tail left by a crash mid-write and cut it off.
 */
const HEADER = 8
const META = 14

interface Topic {
  readonly fh: FileHandle
  /** Byte position of each offset's frame; the thin log keeps this index in memory. */
  readonly positions: PositionIndex
  size: number
  /** Publishes waiting for the next write; one write and one fsync serve all of them (group commit). */
  readonly queue: {
    buf: Buffer
    sizes: number[]
    resolve(offsets: number[]): void
    reject(err: unknown): void
  }[]
  flushing: boolean
}

/**
 * Writes every queued publish with one write and one fsync, then resolves each with its offsets.
 * Publishes that arrive meanwhile wait for the next round, so many small concurrent publishers pay
 * for one fsync together instead of one each.
 */
async function flush(t: Topic, label: string): Promise<void> {
  t.flushing = true
  while (t.queue.length > 0) {
    const batch = t.queue.splice(0)
    const first = t.positions.length
    let pos = t.size
    const offsets = batch.map((p) =>
      p.sizes.map((size) => {
        t.positions.push(pos)
        pos += size
        return t.positions.length - 1
      }),
    )
    try {
      await t.fh.writev(
        batch.map((p) => p.buf),
        t.size,
      )
      await t.fh.datasync()
      t.size = pos
      for (const [i, p] of batch.entries()) p.resolve(offsets[i]!)
    } catch (err) {
      // Nothing of this round is acknowledged: forget its offsets and cut any partial write.
      t.positions.truncate(first)
      await t.fh.truncate(t.size).catch(() => {})
      const e = new WeirError(`stream ${label}: cannot append: ${(err as Error).message}`, {
        code: 'STREAM_IO',
        stage: 'stream',
        retryable: true,
        cause: err,
      })
      for (const p of batch) p.reject(e)
    }
  }
  t.flushing = false
}

/**
 * The default stream: an append-only, checksummed log per topic in a local directory, fsynced
 * before `publish` resolves, with committed offsets per consumer group stored beside it.
 *
 * @example const stream = await createEmbeddedStream('./lake/_stream')
 */
export async function createEmbeddedStream(dir: string): Promise<Stream> {
  await mkdir(dir, { recursive: true })
  const open_: Map<string, Promise<Topic>> = new Map()
  const topic = (name: string) => {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) {
      throw new WeirError(`stream topic "${name}": use letters, digits, _ . -`, {
        code: 'STREAM_TOPIC',
        stage: 'stream',
      })
    }
    let t = open_.get(name)
    if (!t) {
      t = openTopic(join(dir, name))
      open_.set(name, t)
    }
    return t
  }

  return {
    async publish(name, records) {
      const t = await topic(name)
      const { buf, sizes } = encode(records, Date.now())
      return new Promise<number[]>((resolve, reject) => {
        t.queue.push({ buf, sizes, resolve, reject })
        if (!t.flushing) void flush(t, `${dir}/${name}`)
      })
    },
    async consumer(group, names, options: ConsumerOptions = {}) {
      const groupFile = join(dir, '_groups', `${group}.json`)
      const committed: Record<string, number> = JSON.parse(
        await readFile(groupFile, 'utf8').catch(() => '{}'),
      )
      const position: Record<string, number> = {}
      for (const n of names)
        position[n] = committed[n] ?? (await startOffset(await topic(n), n, options.start))
      return {
        async poll({ maxRecords }) {
          const out: Delivery[] = []
          for (const n of names) {
            const t = await topic(n)
            const from = position[n]!
            const to = Math.min(t.positions.length, from + maxRecords - out.length)
            if (to > from) out.push(...(await readRange(t, n, from, to)))
            position[n] = Math.max(from, to)
          }
          return out
        },
        async commit(next) {
          Object.assign(committed, next)
          await mkdir(join(dir, '_groups'), { recursive: true })
          const tmp = `${groupFile}.tmp`
          await writeFile(tmp, JSON.stringify(committed))
          const fh = await open(tmp, 'r+')
          await fh.sync()
          await fh.close()
          await rename(tmp, groupFile)
        },
        position: () => ({ ...position }),
        async lag() {
          const out: Record<string, number> = {}
          for (const n of names) out[n] = (await topic(n)).positions.length - (committed[n] ?? 0)
          return out
        },
        async close() {},
      } satisfies Consumer
    },
    async groups() {
      const files = await readdir(join(dir, '_groups')).catch(() => [] as string[])
      const out: GroupStatus[] = []
      for (const f of files.filter((x) => x.endsWith('.json')).sort()) {
        const committed: Record<string, number> = JSON.parse(await readFile(join(dir, '_groups', f), 'utf8'))
        for (const [name, next] of Object.entries(committed)) {
          const end = (await topic(name)).positions.length
          out.push({ topic: name, group: f.slice(0, -5), committed: next, end, lag: end - next })
        }
      }
      return out
    },
    async topics() {
      const entries = await readdir(dir, { withFileTypes: true })
      return entries.filter((e) => e.isFile() && e.name.endsWith('.log')).map((e) => e.name.slice(0, -4))
    },
    async close() {
      for (const t of open_.values()) await (await t).fh.close()
      open_.clear()
    },
  }
}

const CHUNK = 1 << 16

/**
 * Byte position of every offset, 8 bytes each in fixed chunks of doubles: a plain array would box
 * positions past 1 GiB as heap numbers (about 3x the memory), and one growing typed array would copy.
 */
class PositionIndex {
  private readonly chunks: Float64Array[] = []
  length = 0

  push(pos: number): void {
    const i = this.length % CHUNK
    if (i === 0) this.chunks.push(new Float64Array(CHUNK))
    this.chunks[this.chunks.length - 1]![i] = pos
    this.length++
  }

  get(offset: number): number {
    return this.chunks[Math.floor(offset / CHUNK)]![offset % CHUNK]!
  }

  truncate(length: number): void {
    this.length = length
    this.chunks.length = Math.ceil(length / CHUNK)
  }
}

/**
 * Encodes a publish into one buffer of frames. Records of one batch usually share their headers
 * object, so its JSON is encoded once per run of equal references rather than once per record.
 */
function encode(records: readonly StreamRecordInput[], now: number): { buf: Buffer; sizes: number[] } {
  let lastHeaders: unknown
  let lastJson = Buffer.alloc(0)
  const parts = records.map((r) => {
    if (r.headers !== lastHeaders) {
      lastHeaders = r.headers
      lastJson = Buffer.from(JSON.stringify(r.headers ?? {}))
    }
    const key = r.key === undefined ? EMPTY : Buffer.from(r.key)
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
    buf.writeUInt32BE(size - HEADER, pos)
    buf.writeDoubleBE(r.timestamp ?? now, rest)
    // 0xffff marks "no key", so an empty key and a missing one stay different.
    buf.writeUInt16BE(r.key === undefined ? 0xffff : key.length, rest + 8)
    buf.writeUInt32BE(headers.length, rest + 10)
    key.copy(buf, rest + META)
    headers.copy(buf, rest + META + key.length)
    buf.set(r.value, rest + META + key.length + headers.length)
    buf.writeUInt32BE(crc32(buf.subarray(rest, pos + size)), pos + 4)
    pos += size
  }
  return { buf, sizes: parts.map((p) => p.size) }
}

const EMPTY = Buffer.alloc(0)

/** Opens a topic's log and rebuilds its index; a torn or corrupt tail (a crash mid-append) is cut off. */
async function openTopic(base: string): Promise<Topic> {
  const fh = await open(`${base}.log`, 'a+')
  const { size } = await fh.stat()
  const positions = new PositionIndex()
  const head = Buffer.allocUnsafe(HEADER)
  let pos = 0
  while (pos + HEADER <= size) {
    await fh.read(head, 0, HEADER, pos)
    const len = head.readUInt32BE(0)
    if (pos + HEADER + len > size) break
    const rest = Buffer.allocUnsafe(len)
    await fh.read(rest, 0, len, pos + HEADER)
    if (crc32(rest) !== head.readUInt32BE(4)) break
    positions.push(pos)
    pos += HEADER + len
  }
  if (pos < size) {
    await fh.truncate(pos)
    await fh.datasync()
  }
  return { fh, positions, size: pos, queue: [], flushing: false }
}

/** Where a group without a commit starts: the first record at or after a time is found by scanning. */
async function startOffset(t: Topic, name: string, start: StartAt = 'earliest'): Promise<number> {
  if (start === 'earliest') return 0
  if (start === 'latest') return t.positions.length
  if ('offset' in start) return Math.max(0, Math.min(start.offset, t.positions.length))
  for (let from = 0; from < t.positions.length; from += 10_000) {
    const batch = await readRange(t, name, from, Math.min(t.positions.length, from + 10_000))
    const hit = batch.find((d) => d.timestamp >= start.time)
    if (hit) return hit.offset
  }
  return t.positions.length
}

/** Reads offsets [from, to) with one read: the frames are contiguous on disk. */
async function readRange(t: Topic, name: string, from: number, to: number): Promise<Delivery[]> {
  const start = t.positions.get(from)
  const end = to < t.positions.length ? t.positions.get(to) : t.size
  const buf = Buffer.allocUnsafe(end - start)
  await t.fh.read(buf, 0, buf.length, start)
  const out: Delivery[] = []
  let pos = 0
  // Consecutive records usually carry the same headers: parse each distinct JSON once.
  let lastRaw = EMPTY
  let lastHeaders: Readonly<Record<string, string>> = {}
  for (let offset = from; offset < to; offset++) {
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
    out.push({
      topic: name,
      offset,
      key,
      value: buf.subarray(rest + META + k + hdrLen, rest + len),
      timestamp,
      headers: lastHeaders,
    })
    pos += HEADER + len
  }
  return out
}
