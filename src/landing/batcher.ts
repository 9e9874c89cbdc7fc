import { compareOffsets, type Delivery } from '../stream/stream.js'
import { partitionKey, type Seen } from './commit.js'
import type { Buffer_, Intent } from './landing-types.js'
import { Lines } from './output.js'
import type { Routed } from './route.js'

export interface BatcherOptions {
  readonly route: (d: Delivery) => Routed
  /** Beyond this many open buffers, the oldest is closed early. */
  readonly maxOpen: number
  /** Beyond this many buffered bytes, the oldest buffers are closed early. */
  readonly maxBuffered: number
  /** Intents recorded before a crash, by file key: their files are cut again exactly as recorded. */
  readonly replay: Map<string, Intent[]>
}

/**
 * Cuts deliveries into files: one buffer per (partition, file key), closed when it reaches its
 * record count, size or age, when too many are open, or where a replayed intent ends.
 */
export function createBatcher(o: BatcherOptions) {
  const open = new Map<string, Buffer_>()
  /** Intents whose files were written and committed into: their remaining records are skipped. */
  const durable = new Map<string, Intent>()
  const lastSeen = new Map<string, Seen>()
  let buffered = 0
  let ready: Buffer_[] = []
  let errors: { delivery: Delivery; reason: string }[] = []

  const close = (k: string, b: Buffer_) => {
    open.delete(k)
    buffered -= b.bytes
    ready.push(b)
  }
  /** Closes the oldest open buffer other than `keep`; false when there is none. */
  const closeOldest = (keep: Buffer_): boolean => {
    for (const [k, b] of open) {
      if (b === keep) continue
      close(k, b)
      return true
    }
    return false
  }
  /** The buffer a record goes to, or undefined when its file is landed already. */
  const bufferFor = (
    d: Delivery,
    pk: string,
    r: Exclude<Routed, { reason: string }>,
    prev: string | undefined,
    now: number,
  ) => {
    const k = `${pk}\u0000${r.key}`
    const done = durable.get(k)
    if (done) {
      if (compareOffsets(d.offset, done.last) <= 0) return undefined
      durable.delete(k)
    }
    let b = open.get(k)
    const list = o.replay.get(k)
    while (list?.length && compareOffsets(list[0]!.last, d.offset) < 0) list.shift()
    const intent = list?.length && compareOffsets(list[0]!.first, d.offset) <= 0 ? list.shift() : undefined
    if (intent && compareOffsets(intent.first, d.offset) < 0) {
      // The replay began inside this file: the commit passed its first record, which a commit only
      // does once the file is durable. Its records are landed already.
      durable.set(k, intent)
      return undefined
    }
    if (b && (intent || (!b.intent && b.bytes + d.value.length + 1 > r.table.maxBytes))) {
      close(k, b)
      b = undefined
    }
    if (b) return { k, b }
    b = newBuffer(d, r, prev, now, intent)
    open.set(k, b)
    // Bounded memory: past the limit the oldest buffer (a Map keeps creation order) is written early.
    if (open.size > o.maxOpen) closeOldest(b)
    return { k, b }
  }

  return {
    open,
    lastSeen,
    /** Takes one delivery; true when it was buffered (not set aside, not landed already). */
    add(d: Delivery, now: number): boolean {
      const pk = partitionKey(d.topic, d.partition)
      const prev = lastSeen.get(pk)?.offset
      lastSeen.set(pk, { topic: d.topic, partition: d.partition, offset: d.offset })
      const r = o.route(d)
      if ('reason' in r) {
        errors.push({ delivery: d, reason: r.reason })
        return false
      }
      const target = bufferFor(d, pk, r, prev, now)
      if (!target) return false
      const { k, b } = target
      b.lines.push(d.value)
      b.bytes += d.value.length + 1
      buffered += d.value.length + 1
      b.last = d.offset
      if (d.timestamp < b.minTs) b.minTs = d.timestamp
      if (d.timestamp > b.maxTs) b.maxTs = d.timestamp
      if (r.eventMs !== undefined) {
        if (r.eventMs < b.minEt) b.minEt = r.eventMs
        if (r.eventMs > b.maxEt) b.maxEt = r.eventMs
      }
      if (r.late) b.late++
      while (buffered > o.maxBuffered && closeOldest(b)) {}
      if (b.intent ? d.offset === b.intent.last : b.lines.count >= r.table.maxRecords) close(k, b)
      return true
    },
    /** Closes the buffers that came of age, and replayed files whose partition was read past their end. */
    closeDue(now: number): void {
      for (const [k, b] of [...open]) {
        if (b.intent) {
          const seen = lastSeen.get(partitionKey(b.topic, b.partition))
          if (seen && compareOffsets(seen.offset, b.intent.last) >= 0) close(k, b)
        } else if (now - b.openedAt >= b.table.maxAgeMs) close(k, b)
      }
    },
    closeAll(): void {
      for (const [k, b] of [...open]) close(k, b)
    },
    pending(): boolean {
      return ready.length > 0 || errors.length > 0
    },
    /** The closed buffers and set-aside records since the last call. */
    take() {
      const out = { files: ready, bad: errors }
      ready = []
      errors = []
      return out
    },
    /** Milliseconds until the next buffer comes of age (at most `cap`). */
    nextDue(now: number, cap: number): number {
      let wait = cap
      for (const b of open.values()) if (!b.intent) wait = Math.min(wait, b.openedAt + b.table.maxAgeMs - now)
      return wait
    },
  }
}

function newBuffer(
  d: Delivery,
  r: Exclude<Routed, { reason: string }>,
  prev: string | undefined,
  now: number,
  intent: Intent | undefined,
): Buffer_ {
  return {
    topic: d.topic,
    partition: d.partition,
    key: r.key,
    resource: r.resource,
    fp: r.fp,
    dir: r.dir,
    table: r.table,
    lines: new Lines(),
    bytes: 0,
    first: d.offset,
    last: d.offset,
    prev,
    openedAt: now,
    minTs: d.timestamp,
    maxTs: d.timestamp,
    minEt: Number.POSITIVE_INFINITY,
    maxEt: Number.NEGATIVE_INFINITY,
    late: 0,
    intent,
  }
}
