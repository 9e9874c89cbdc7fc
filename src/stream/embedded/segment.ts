import { constants } from 'node:fs'
import { type FileHandle, open } from 'node:fs/promises'
import { WeirError } from '../../core/errors.js'
import { scan } from './frame.js'
import { PositionIndex } from './position-index.js'

/** One segment file of a topic's log, with the positions of its records. */
export interface Segment {
  /** Offset of the segment's first record; also its file name. */
  readonly base: number
  readonly path: string
  readonly fh: FileHandle
  size: number
  readonly positions: PositionIndex
  /**
   * Records readers may see: those written and fsynced. `positions` runs ahead of it while a
   * write is in flight, and a reader must neither see a record before it is durable nor read
   * bytes that are not written yet.
   */
  count: number
  /** Newest record time in the segment, for age retention. */
  lastTs: number
}

const SCAN_CHUNK = 8 * 1024 * 1024

/**
 * Writes every byte or throws. A write may be short (a disk that fills mid-write): the rest is
 * written from where it stopped, which then fails with the disk's error rather than being taken
 * for written.
 */
export async function writeFully(fh: FileHandle, bufs: readonly Buffer[], position: number): Promise<void> {
  let rest = bufs.filter((b) => b.length > 0)
  let at = position
  while (rest.length > 0) {
    const { bytesWritten } = await fh.writev(rest, at)
    if (bytesWritten === 0) throw new Error('the file system wrote 0 bytes')
    at += bytesWritten
    let skip = bytesWritten
    while (skip > 0 && rest.length > 0) {
      const head = rest[0]!
      if (head.length <= skip) {
        skip -= head.length
        rest = rest.slice(1)
      } else {
        rest = [head.subarray(skip), ...rest.slice(1)]
        skip = 0
      }
    }
  }
}

export function segmentName(base: number): string {
  return `${String(base).padStart(20, '0')}.log`
}

/**
 * Opens a segment and indexes its records, reading it in large chunks. Only the last segment can
 * have a torn tail (only it is written to), so only its checksums are verified and its tail cut.
 */
export async function openSegment(path: string, base: number, last: boolean): Promise<Segment> {
  // Read-write, not append: on Linux an append-mode file ignores the position of a write, so a
  // write after a failed one would land after its torn bytes instead of over them.
  const fh = await open(path, constants.O_RDWR | constants.O_CREAT, 0o644)
  const { size } = await fh.stat()
  const positions = new PositionIndex()
  let lastTs = 0
  let pos = 0
  const chunk = Buffer.allocUnsafe(SCAN_CHUNK)
  while (pos < size) {
    let buf = chunk.subarray(0, Math.min(SCAN_CHUNK, size - pos))
    await fh.read(buf, 0, buf.length, pos)
    let used = scan(buf, last, (p, ts) => {
      positions.push(pos + p)
      lastTs = Math.max(lastTs, ts)
    })
    if (used === 0) {
      // A batch larger than the chunk: read exactly it, then go on.
      if (size - pos < 8) break
      const head = Buffer.allocUnsafe(8)
      await fh.read(head, 0, 8, pos)
      const len = 8 + head.readUInt32BE(0)
      if (pos + len > size) break
      buf = Buffer.allocUnsafe(len)
      await fh.read(buf, 0, len, pos)
      used = scan(buf, last, (p, ts) => {
        positions.push(pos + p)
        lastTs = Math.max(lastTs, ts)
      })
      if (used === 0) break
    }
    pos += used
  }
  if (pos < size && !last) {
    throw new WeirError(
      `stream ${path}: a closed segment is damaged at byte ${pos}; restore it or delete it`,
      {
        code: 'STREAM_CORRUPT',
        stage: 'stream',
      },
    )
  }
  return { base, path, fh, size: pos, positions, count: positions.length, lastTs }
}
