import { mkdir, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { WeirError } from '../../core/errors.js'
import type { Delivery } from '../stream.js'
import { decode } from './frame.js'
import { openSegment, type Segment, segmentName, writeFully } from './segment.js'

export interface TopicLogOptions {
  /** A segment is closed and a new one started once it holds this many bytes (at most 2 GiB). */
  readonly segmentBytes: number
  /** Oldest closed segments are deleted while the topic holds more, or while all their records are older. */
  readonly retention?: { readonly maxBytes?: number; readonly maxAgeMs?: number }
  /** Bytes waiting to be written before `append` makes publishers wait (backpressure); default 64 MB. */
  readonly maxQueuedBytes?: number
  /** Called before this process's first append (where the stream takes its single-writer lock). */
  readonly beforeWrite?: () => Promise<void>
}

interface Pending {
  readonly buf: Buffer
  /** Where each record starts in `buf`. */
  readonly positions: readonly number[]
  readonly lastTs: number
  resolve(offsets: number[]): void
  reject(err: unknown): void
}

/**
 * One topic of the embedded log: a folder of segment files named by their first offset. Appends go
 * to the last segment with group commit (one write and one fsync for every publish queued meanwhile);
 * reads never cross a segment; retention deletes whole closed segments, oldest first.
 */
export class TopicLog {
  private readonly queue: Pending[] = []
  private flushing = false
  private queuedBytes = 0
  /** Publishers waiting for room in the queue, woken as writes complete. */
  private readonly waiting: (() => void)[] = []

  /** Set once the torn tail (if any) is cut, which only the one writer may do, at its first append. */
  private prepared = false

  private constructor(
    private readonly dir: string,
    private readonly segments: Segment[],
    private readonly opts: TopicLogOptions,
  ) {}

  /**
   * Opens (or creates) a topic's folder. A torn tail of the last segment (a write a crash cut short,
   * never acknowledged) is left out of the records read, and cut off only by the first append: a
   * process that only reads, such as `weir status` beside a running `weir run`, must never cut a
   * write that another process is about to acknowledge.
   */
  static async open(dir: string, opts: TopicLogOptions): Promise<TopicLog> {
    await mkdir(dir, { recursive: true })
    const names = (await readdir(dir)).filter((n) => /^\d{20}\.log$/.test(n)).sort()
    if (names.length === 0) names.push(segmentName(0))
    const segments: Segment[] = []
    for (const [i, name] of names.entries()) {
      segments.push(await openSegment(join(dir, name), Number(name.slice(0, 20)), i === names.length - 1))
    }
    return new TopicLog(dir, segments, opts)
  }

  /** The first offset still kept. */
  get start(): number {
    return this.segments[0]!.base
  }

  /** The offset the next record will get. */
  get end(): number {
    const last = this.segments.at(-1)!
    return last.base + last.count
  }

  get bytes(): number {
    return this.segments.reduce((n, s) => n + s.size, 0)
  }

  /**
   * Appends an encoded batch; resolves with its records' offsets once it is on disk. When more than
   * `maxQueuedBytes` are already waiting to be written, it first waits for room: publishers slow to
   * the disk's pace instead of piling records up in memory.
   */
  async append(buf: Buffer, positions: readonly number[], lastTs: number): Promise<number[]> {
    const limit = this.opts.maxQueuedBytes ?? 64 * 1024 * 1024
    while (this.queuedBytes > 0 && this.queuedBytes + buf.length > limit) {
      await new Promise<void>((wake) => this.waiting.push(wake))
    }
    this.queuedBytes += buf.length
    return new Promise((resolve, reject) => {
      this.queue.push({ buf, positions, lastTs, resolve, reject })
      if (!this.flushing) void this.flush()
    })
  }

  /** Bytes accepted but not yet written: what backpressure bounds. */
  get pendingBytes(): number {
    return this.queuedBytes
  }

  /** Records [from, to), or fewer: a read stops at the end of the segment that holds `from`. */
  async read(topic: string, partition: string, from: number, to: number): Promise<Delivery[]> {
    const s = this.segmentOf(from)
    const local = from - s.base
    const count = Math.min(to, s.base + s.count) - from
    if (count <= 0) return []
    const start = s.positions.get(local)
    const end = local + count < s.count ? s.positions.get(local + count) : s.size
    const buf = Buffer.allocUnsafe(end - start)
    await s.fh.read(buf, 0, buf.length, start)
    return decode(buf, topic, partition, from, count, (i) => s.positions.get(local + i) - start)
  }

  /** The first offset whose record is at or after `time`, scanning only segments that can hold it. */
  async offsetAt(time: number): Promise<number> {
    for (const s of this.segments) {
      if (s.lastTs < time) continue
      for (let from = s.base; from < s.base + s.count; from += 10_000) {
        const hit = (await this.read('', '', from, from + 10_000)).find((d) => d.timestamp >= time)
        if (hit) return Number(hit.offset)
      }
    }
    return this.end
  }

  async close(): Promise<void> {
    for (const s of this.segments) await s.fh.close()
  }

  private segmentOf(offset: number): Segment {
    let lo = 0
    let hi = this.segments.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.segments[mid]!.base <= offset) lo = mid
      else hi = mid - 1
    }
    return this.segments[lo]!
  }

  private async flush(): Promise<void> {
    this.flushing = true
    while (this.queue.length > 0) {
      // One turn of the event loop first: publishers just woken by the last round's acks enqueue
      // their next batch, and this round's single fsync covers them too.
      await new Promise(setImmediate)
      const batch = this.queue.splice(0)
      try {
        const offsets = await this.write(batch)
        for (const [i, p] of batch.entries()) p.resolve(offsets[i]!)
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        const hint = code === 'ENOSPC' ? ' (disk full)' : code === 'EROFS' ? ' (read-only file system)' : ''
        const e = new WeirError(`stream ${this.dir}: cannot append${hint}: ${(err as Error).message}`, {
          code: 'STREAM_IO',
          stage: 'stream',
          retryable: true,
          cause: err,
        })
        for (const p of batch) p.reject(e)
      }
      this.queuedBytes -= batch.reduce((n, p) => n + p.buf.length, 0)
      for (const wake of this.waiting.splice(0)) wake()
      await this.retain().catch(() => {})
    }
    this.flushing = false
  }

  /** Writes one round (one write, one fsync); on failure nothing of it is acknowledged, and it throws. */
  private async write(batch: readonly Pending[]): Promise<number[][]> {
    let s = this.segments.at(-1)!
    if (s.size >= this.opts.segmentBytes && s.positions.length > 0) s = await this.roll()
    const first = s.positions.length
    let pos = s.size
    const offsets = batch.map((p) => {
      const out = p.positions.map((at) => {
        s.positions.push(pos + at)
        return s.base + s.positions.length - 1
      })
      pos += p.buf.length
      return out
    })
    try {
      await this.prepare(s)
      await writeFully(
        s.fh,
        batch.map((p) => p.buf),
        s.size,
      )
      await s.fh.datasync()
    } catch (err) {
      // Nothing of this round is acknowledged: forget its offsets and cut any partial write. If the
      // cut fails too, the bytes past `size` are overwritten by the next append, and a reopen stops
      // at their checksum: they were never acknowledged either way.
      s.positions.truncate(first)
      await s.fh.truncate(s.size).catch(() => {})
      throw err
    }
    s.size = pos
    s.count = s.positions.length
    s.lastTs = Math.max(s.lastTs, ...batch.map((p) => p.lastTs))
    return offsets
  }

  /** Before the first append: the writer's lock, then the torn tail cut. */
  private async prepare(s: Segment): Promise<void> {
    if (this.prepared) return
    await this.opts.beforeWrite?.()
    const { size } = await s.fh.stat()
    if (size > s.size) {
      await s.fh.truncate(s.size)
      await s.fh.datasync()
    }
    this.prepared = true
  }

  private async roll(): Promise<Segment> {
    const base = this.end
    const s = await openSegment(join(this.dir, segmentName(base)), base, true)
    this.segments.push(s)
    return s
  }

  /** Deletes closed segments, oldest first, while the topic is over its size or they are over age. */
  private async retain(): Promise<void> {
    const r = this.opts.retention
    if (!r) return
    const now = Date.now()
    while (this.segments.length > 1) {
      const oldest = this.segments[0]!
      const tooBig = r.maxBytes !== undefined && this.bytes > r.maxBytes
      const tooOld = r.maxAgeMs !== undefined && oldest.lastTs < now - r.maxAgeMs
      if (!tooBig && !tooOld) return
      this.segments.shift()
      await oldest.fh.close()
      await rm(oldest.path, { force: true })
    }
  }
}
