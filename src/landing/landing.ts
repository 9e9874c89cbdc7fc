import { promisify } from 'node:util'
import { gzip as gzipCb } from 'node:zlib'
import { tableName } from '../core/records.js'
import type { StateStore } from '../state/state.js'
import { joinKey, type ObjectStore, putJson } from '../storage/storage.js'
import { type Checkpoint, compareOffsets, type Delivery, type Stream, setOffset } from '../stream/stream.js'

import { fileName, inParallel, Lines, registerRaw, writeErrors } from './output.js'
import { router } from './route.js'

const gzip = promisify(gzipCb)

/** Limits and layout of one table's raw files. */
export interface LandingTable {
  readonly maxRecords: number
  readonly maxBytes: number
  readonly maxAgeMs: number
  /** Folder template, e.g. `raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}`. */
  readonly path: string
  /** Dotted path of the event time; without one, records land by the time they were published. */
  readonly eventTime: string | undefined
}

export interface LandingOptions {
  readonly topics: readonly string[]
  /** The settings of `source.resource` (global defaults merged with the table's own). */
  readonly table: (source: string, resource: string) => LandingTable
  /** Where lake state lives: landing keeps its intents there (`_state/landing/<group>/intents.json`). */
  readonly state: StateStore
  /** Partition folders by the record's event time (default) or by when it was ingested. */
  readonly timeBy?: 'event' | 'ingestion'
  /** IANA zone of the folders' dates and hours (default UTC). */
  readonly timeZone?: string
  readonly compression?: 'none' | 'gzip'
  /** `ndjson` (default) or `json`, as some layouts want (`Raw/Twitter/JSON/2022/05/02/<file>.json`). */
  readonly extension?: 'ndjson' | 'json'
  /** Beyond this many open files, the oldest are written early (default 500). */
  readonly maxOpenFiles?: number
  /** Beyond this many buffered bytes, the oldest files are written early (default 128 MB). */
  readonly maxBufferedBytes?: number
  /** A bigger record is set aside in `_errors/landing` (default 1 MB). */
  readonly maxRecordBytes?: number
  /** Consumer group name; one per landing deployment. */
  readonly group?: string
  /**
   * Only these partitions of each topic (of `all`), for processes that share the landing: each
   * partition must be landed by one process at a time (the caller holds a lease on it).
   */
  readonly partitions?: (topic: string, all: readonly string[]) => Promise<readonly string[]>
  /** Keep running, writing files as they age, until `signal` aborts; otherwise return once caught up. */
  readonly follow?: boolean
  /** Stops polling; what was taken is still written and committed before `land` returns. */
  readonly signal?: AbortSignal
  /** Called once each file is visible (for latency figures and progress). */
  readonly onFile?: (file: LandedFile) => void
  /**
   * Called after each round of files is written, registered and committed, with the raw tables
   * (`x_tweets`) it wrote to: the moment a micro-batch refine can start.
   */
  readonly onRound?: (tables: readonly string[]) => void
}

export interface LandedFile {
  readonly key: string
  readonly records: number
  readonly bytes: number
  /** Stream timestamps (publish times) of its first and last records, ms. */
  readonly published: { readonly min: number; readonly max: number }
  readonly late: number
}

export interface LandingResult {
  readonly records: number
  readonly files: number
  readonly bytes: number
  /** Records set aside in `_errors/landing/` (not JSON, no resource, no event time, too big). */
  readonly errors: number
  /** Records whose event time fell in an older folder than the newest one seen for their table. */
  readonly late: number
}

/**
 * A file about to be written: recorded (durably, with the others of its round) before the write,
 * so that a replay after a crash rebuilds exactly the same file instead of cutting the records
 * differently (time-based flushes are not a function of the records alone).
 */
interface Intent {
  readonly topic: string
  readonly partition: string
  /** Resource, fingerprint and folder: which records of the partition belong in the file. */
  readonly key: string
  readonly first: string
  readonly last: string
}

interface Buffer_ {
  readonly topic: string
  readonly partition: string
  readonly key: string
  readonly resource: string
  readonly fp: string
  readonly dir: string
  readonly table: LandingTable
  readonly lines: Lines
  bytes: number
  readonly first: string
  last: string
  /** Offset of the record polled just before `first` in this partition; commits stay below it. */
  readonly prev: string | undefined
  readonly openedAt: number
  minTs: number
  maxTs: number
  minEt: number
  maxEt: number
  late: number
  /** Set when this buffer replays a file recorded before a crash. */
  readonly intent: Intent | undefined
}

const POLL = 5_000

const FLUSH_CONCURRENCY = 8

const IDLE_MS = 100

/**
 * Lands the stream into raw files, like Firehose but exactly once. Records are buffered per
 * (partition, source, resource, structure, folder) and a buffer becomes one file when it reaches
 * its record count, its size or its age, or when too many are open. Each round of files is first
 * recorded as intents, then written atomically (named after the partition and offsets they hold),
 * and only then are stream offsets committed — below every record still buffered. A crash at any
 * point replays from the last commit and, guided by the intents, rewrites the same names with the
 * same content.
 */
export async function land(stream: Stream, store: ObjectStore, opts: LandingOptions): Promise<LandingResult> {
  const group = opts.group ?? 'landing'
  // Intents are kept per partition, whether one process lands them all or several share them: the
  // process that lands a partition next (after a crash, in either mode) replays exactly what the
  // last one recorded.
  const owned: { topic: string; partition: string }[] = []
  const assign = opts.partitions
  const consumer = await stream.consumer(
    group,
    opts.topics,
    assign
      ? {
          partitions: async (topic, all) => {
            const mine = await assign(topic, all)
            owned.push(...mine.map((partition) => ({ topic, partition })))
            return mine
          },
        }
      : {},
  )
  const legacyDoc = `landing/${group}/intents`
  const partDoc = (topic: string, partition: string) => `landing/${group}/parts/${topic}/${partition}/intents`
  const saved = new Map<string, string>()
  const loadIntents = async (): Promise<Intent[]> => {
    const out: Intent[] = []
    // Before intents were kept per partition, one process kept them all in one document.
    const legacy = (await opts.state.get<{ intents: Intent[] }>(legacyDoc))?.intents ?? []
    const mine = (i: Intent) =>
      !assign || owned.some((o) => o.topic === i.topic && o.partition === i.partition)
    out.push(...legacy.filter(mine))
    const parts = assign ? owned : await partitionsWithIntents()
    for (const o of parts) {
      const doc = await opts.state.get<{ intents: Intent[] }>(partDoc(o.topic, o.partition))
      saved.set(partDoc(o.topic, o.partition), JSON.stringify(doc?.intents ?? []))
      out.push(...(doc?.intents ?? []))
    }
    return out
  }
  /** Without assigned partitions: every partition of the landed topics that has intents saved. */
  const partitionsWithIntents = async () => {
    const out: { topic: string; partition: string }[] = []
    for (const topic of opts.topics) {
      for (const name of await opts.state.list(`landing/${group}/parts/${topic}`)) {
        const m = /\/parts\/[^/]+\/([^/]+)\/intents$/.exec(name)
        if (m) out.push({ topic, partition: m[1]! })
      }
    }
    return out
  }
  const saveIntents = async (intents: readonly Intent[]): Promise<void> => {
    const by = new Map<string, Intent[]>()
    for (const o of owned) by.set(partDoc(o.topic, o.partition), [])
    for (const doc of saved.keys()) by.set(doc, [])
    for (const i of intents) {
      const doc = partDoc(i.topic, i.partition)
      const list = by.get(doc)
      if (list) list.push(i)
      else by.set(doc, [i])
    }
    for (const [doc, list] of by) {
      const text = JSON.stringify(list)
      if ((saved.get(doc) ?? '[]') === text) continue
      await opts.state.put(doc, { intents: list })
      saved.set(doc, text)
    }
    if (!migrated && !assign) {
      // Once written per partition, the old single document goes (emptied: the state has no delete).
      if (await opts.state.get(legacyDoc)) await opts.state.put(legacyDoc, { intents: [] })
      migrated = true
    }
  }
  let migrated = false
  const maxOpen = opts.maxOpenFiles ?? 500
  const maxBuffered = opts.maxBufferedBytes ?? 128 * 1024 * 1024
  const maxRecordBytes = opts.maxRecordBytes ?? 1024 * 1024
  const ext = `.${opts.extension ?? 'ndjson'}${opts.compression === 'gzip' ? '.gz' : ''}`
  const result = { records: 0, files: 0, bytes: 0, errors: 0, late: 0 }

  let pending: Intent[] = await loadIntents()
  const replay = new Map<string, Intent[]>()
  for (const i of [...pending].sort((a, b) => compareOffsets(a.first, b.first))) {
    const k = `${i.topic}\u0000${i.partition}\u0000${i.key}`
    const list = replay.get(k)
    if (list) list.push(i)
    else replay.set(k, [i])
  }

  const open = new Map<string, Buffer_>()
  /** Intents whose files were written and committed into: their remaining records are skipped. */
  const durable = new Map<string, Intent>()
  let buffered = 0
  const lastSeen = new Map<string, { topic: string; partition: string; offset: string }>()
  let ready: Buffer_[] = []
  let errors: { delivery: Delivery; reason: string }[] = []
  const route = router(opts, maxRecordBytes)

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

  const write = async (b: Buffer_) => {
    const name = fileName(b.partition, b.first, b.last)
    const file = joinKey(b.dir, `${name}${ext}`)
    const raw = b.lines.take()
    const body = opts.compression === 'gzip' ? await gzip(raw) : raw
    // A replayed file that was written before the crash is left as it is: rewriting the same bytes
    // would still change its version tag (mtime on a local lake) and make refine read it again.
    const old = b.intent ? await store.getBytes(file) : undefined
    if (!old || !Buffer.from(old).equals(body)) await store.put(file, body)
    // Lineage goes beside the data, not into the records; the leading _ hides it from Athena/Hive/DuckDB globs.
    await putJson(store, joinKey(b.dir, `_${name}.manifest.json`), {
      file,
      source: b.topic,
      resource: b.resource,
      fingerprint: b.fp || null,
      positions: { partition: b.partition, first: b.first, last: b.last },
      records: b.lines.count,
      bytes: body.length,
      eventTime: b.minEt <= b.maxEt ? { min: iso(b.minEt), max: iso(b.maxEt) } : null,
      ingested: { from: iso(b.minTs), to: iso(b.maxTs) },
      late: b.late,
      landedAt: new Date().toISOString(),
    })
    result.files++
    result.bytes += body.length
    result.late += b.late
    opts.onFile?.({
      key: file,
      records: b.lines.count,
      bytes: body.length,
      published: { min: b.minTs, max: b.maxTs },
      late: b.late,
    })
  }

  const registered = new Set<string>()
  /** Writes the closed buffers and set-aside records, then commits what is durable. */
  /**
   * Writes the closed buffers and set-aside records, then commits what is durable. It runs while
   * the next records are routed (one round at a time), so what it may commit is fixed before its
   * first await: below the first record of every buffer open now, none of which is in its files.
   */
  const round = async (): Promise<boolean> => {
    const files = ready
    ready = []
    const bad = errors
    errors = []
    const cp: Checkpoint = {}
    const hold = new Map<string, string | null>()
    for (const b of open.values()) {
      const pk = `${b.topic}\u0000${b.partition}`
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
    const fresh = files.filter((b) => !b.intent)
    if (fresh.length) {
      pending = [
        ...pending,
        ...fresh.map((b) => ({
          topic: b.topic,
          partition: b.partition,
          key: b.key,
          first: b.first,
          last: b.last,
        })),
      ]
      await saveIntents(pending)
    }
    await inParallel(files, FLUSH_CONCURRENCY, write)
    result.errors += bad.length
    await writeErrors(store, bad)
    for (const b of files) {
      const name = `${b.topic}.${b.resource}`
      if (registered.has(name)) continue
      await registerRaw(store, b.table.path, b.topic, b.resource)
      registered.add(name)
    }
    if (Object.keys(cp).length === 0) return false
    await consumer.commit(cp)
    if (files.length && opts.onRound)
      opts.onRound([...new Set(files.map((b) => tableName(b.topic, b.resource)))])
    const before = pending.length
    pending = pending.filter((i) => {
      const c = cp[i.topic]?.[i.partition]
      return c === undefined || compareOffsets(i.last, c) > 0
    })
    return before !== pending.length
  }

  let pruned = false
  let writing: Promise<boolean> = Promise.resolve(false)
  for (;;) {
    const batch = opts.signal?.aborted ? [] : await consumer.poll({ maxRecords: POLL })
    const now = Date.now()
    for (const d of batch) {
      const pk = `${d.topic}\u0000${d.partition}`
      const prev = lastSeen.get(pk)?.offset
      lastSeen.set(pk, { topic: d.topic, partition: d.partition, offset: d.offset })
      const r = route(d)
      if ('reason' in r) {
        errors.push({ delivery: d, reason: r.reason })
        continue
      }
      const k = `${pk}\u0000${r.key}`
      const done = durable.get(k)
      if (done) {
        if (compareOffsets(d.offset, done.last) <= 0) continue
        durable.delete(k)
      }
      let b = open.get(k)
      const list = replay.get(k)
      while (list?.length && compareOffsets(list[0]!.last, d.offset) < 0) list.shift()
      const intent = list?.length && compareOffsets(list[0]!.first, d.offset) <= 0 ? list.shift() : undefined
      if (intent && compareOffsets(intent.first, d.offset) < 0) {
        // The replay began inside this file: the commit passed its first record, which a commit only
        // does once the file is durable. Its records are landed already.
        durable.set(k, intent)
        continue
      }
      if (intent && b) {
        close(k, b)
        b = undefined
      }
      if (b && !b.intent && b.bytes + d.value.length + 1 > r.table.maxBytes) {
        close(k, b)
        b = undefined
      }
      if (!b) {
        b = {
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
        open.set(k, b)
        // Bounded memory: past the limit the oldest buffer (a Map keeps creation order) is written early.
        if (open.size > maxOpen) closeOldest(b)
      }
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
      result.records++
      while (buffered > maxBuffered && closeOldest(b)) {}
      if (b.intent ? d.offset === b.intent.last : b.lines.count >= r.table.maxRecords) close(k, b)
    }
    for (const [k, b] of [...open]) {
      if (b.intent) {
        // A replayed file is complete once its partition has been read past its last record.
        const seen = lastSeen.get(`${b.topic}\u0000${b.partition}`)
        if (seen && compareOffsets(seen.offset, b.intent.last) >= 0) close(k, b)
      } else if (now - b.openedAt >= b.table.maxAgeMs) close(k, b)
    }
    const done = batch.length === 0 && (!opts.follow || opts.signal?.aborted)
    if (done) for (const [k, b] of [...open]) close(k, b)
    if (ready.length || errors.length || done) {
      // One round at a time: the next starts (and commits) only after this one is durable.
      pruned = (await writing) || pruned
      writing = round()
      writing.catch(() => {}) // awaited below or at the next round; not an unhandled rejection meanwhile
    }
    if (done) break
    if (batch.length === 0) {
      pruned = (await writing) || pruned
      writing = Promise.resolve(false)
      await idle(open, opts.signal)
    }
  }
  pruned = (await writing) || pruned
  // The intents of files whose records are all committed are not needed for a replay any more.
  if (pruned) await saveIntents(pending)
  await consumer.close()
  return result
}

/** Waits for new records or for the next buffer to come of age, whichever is sooner. */
async function idle(open: ReadonlyMap<string, Buffer_>, signal: AbortSignal | undefined): Promise<void> {
  let wait = IDLE_MS
  const now = Date.now()
  for (const b of open.values()) if (!b.intent) wait = Math.min(wait, b.openedAt + b.table.maxAgeMs - now)
  if (wait <= 0 || signal?.aborted) return
  await new Promise<void>((resolve) => {
    const t = setTimeout(done, wait)
    function done() {
      clearTimeout(t)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

const iso = (ms: number) => new Date(ms).toISOString()
