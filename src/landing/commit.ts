import { type Checkpoint, compareOffsets, setOffset } from '../stream/stream.js'
import type { Buffer_, Intent } from './landing-types.js'

/** Where a partition was last read to. */
export interface Seen {
  readonly topic: string
  readonly partition: string
  readonly offset: string
}

/**
 * What a round may commit: per partition, everything read so far, except that it stays below the
 * first record of every buffer still open (none of which is in a file yet). A buffer that opened on
 * the first record read of its partition holds the whole partition back.
 */
export function safeCheckpoint(open: Iterable<Buffer_>, lastSeen: ReadonlyMap<string, Seen>): Checkpoint {
  const cp: Checkpoint = {}
  const hold = new Map<string, string | null>()
  for (const b of open) {
    const pk = partitionKey(b.topic, b.partition)
    const cur = hold.get(pk)
    if (cur === null) continue
    hold.set(
      pk,
      b.prev === undefined ? null : cur === undefined || compareOffsets(b.prev, cur) < 0 ? b.prev : cur,
    )
  }
  for (const [pk, seen] of lastSeen) {
    const h = hold.get(pk)
    const safe = h === null ? undefined : (h ?? seen.offset)
    if (safe !== undefined) setOffset(cp, seen.topic, seen.partition, safe)
  }
  return cp
}

/** The intents a replay still needs: those with records past the commit. */
export function stillPending(pending: readonly Intent[], cp: Checkpoint): Intent[] {
  return pending.filter((i) => {
    const c = cp[i.topic]?.[i.partition]
    return c === undefined || compareOffsets(i.last, c) > 0
  })
}

/** The recorded intents by file key, oldest first: what a replay must cut the same way. */
export function replayIndex(pending: readonly Intent[]): Map<string, Intent[]> {
  const replay = new Map<string, Intent[]>()
  for (const i of [...pending].sort((a, b) => compareOffsets(a.first, b.first))) {
    const k = `${partitionKey(i.topic, i.partition)}\u0000${i.key}`
    const list = replay.get(k)
    if (list) list.push(i)
    else replay.set(k, [i])
  }
  return replay
}

export function partitionKey(topic: string, partition: string): string {
  return `${topic}\u0000${partition}`
}
