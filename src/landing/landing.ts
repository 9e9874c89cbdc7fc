import { tableName } from '../core/records.js'
import { sleep } from '../core/time.js'
import type { ObjectStore } from '../storage/storage.js'
import type { Delivery, Stream } from '../stream/stream.js'
import { createBatcher } from './batcher.js'
import { replayIndex, safeCheckpoint, stillPending } from './commit.js'
import { createIntentLog } from './intents.js'
import type { Buffer_, Intent, LandingOptions, LandingResult } from './landing-types.js'
import { inParallel, registerRaw, writeErrors } from './output.js'
import { router } from './route.js'
import { rawFormat, writeRawFile } from './writer.js'

export type { LandedFile, LandingOptions, LandingResult, LandingTable } from './landing-types.js'

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
  const { consumer, owned } = await openConsumer(stream, group, opts)
  const intents = createIntentLog(opts.state, group, opts.topics, owned)
  const result = { records: 0, files: 0, bytes: 0, errors: 0, late: 0 }
  const format = rawFormat(opts)
  let pending: Intent[] = await intents.load()
  const batcher = createBatcher({
    route: router(opts, opts.maxRecordBytes ?? 1024 * 1024),
    maxOpen: opts.maxOpenFiles ?? 500,
    maxBuffered: opts.maxBufferedBytes ?? 128 * 1024 * 1024,
    replay: replayIndex(pending),
  })
  const registered = new Set<string>()

  /**
   * Writes the closed buffers and set-aside records, then commits what is durable. It runs while
   * the next records are routed (one round at a time), so what it may commit is fixed before its
   * first await: below the first record of every buffer open now, none of which is in its files.
   * True when it let intents go.
   */
  const round = async (): Promise<boolean> => {
    const { files, bad } = batcher.take()
    const cp = safeCheckpoint(batcher.open.values(), batcher.lastSeen)
    const fresh = files.filter((b) => !b.intent)
    if (fresh.length) {
      pending = [...pending, ...fresh.map(intentOf)]
      await intents.save(pending)
    }
    await inParallel(files, FLUSH_CONCURRENCY, async (b) => {
      const file = await writeRawFile(store, b, format)
      result.files++
      result.bytes += file.bytes
      result.late += file.late
      opts.onFile?.(file)
    })
    result.errors += bad.length
    await writeErrors(store, bad)
    await registerTables(store, files, registered)
    if (Object.keys(cp).length === 0) return false
    await consumer.commit(cp)
    if (files.length && opts.onRound)
      opts.onRound([...new Set(files.map((b) => tableName(b.topic, b.resource)))])
    const before = pending.length
    pending = stillPending(pending, cp)
    return before !== pending.length
  }

  let pruned = false
  let writing: Promise<boolean> = Promise.resolve(false)
  for (;;) {
    const batch: Delivery[] = opts.signal?.aborted ? [] : await consumer.poll({ maxRecords: POLL })
    const now = Date.now()
    for (const d of batch) if (batcher.add(d, now)) result.records++
    batcher.closeDue(now)
    const done = batch.length === 0 && (!opts.follow || opts.signal?.aborted)
    if (done) batcher.closeAll()
    if (batcher.pending() || done) {
      // One round at a time: the next starts (and commits) only after this one is durable.
      pruned = (await writing) || pruned
      writing = round()
      writing.catch(() => {}) // awaited below or at the next round; not an unhandled rejection meanwhile
    }
    if (done) break
    if (batch.length === 0) {
      pruned = (await writing) || pruned
      writing = Promise.resolve(false)
      // Wait for new records or for the next buffer to come of age, whichever is sooner.
      const wait = batcher.nextDue(Date.now(), IDLE_MS)
      if (wait > 0 && !opts.signal?.aborted) await sleep(wait, opts.signal)
    }
  }
  pruned = (await writing) || pruned
  // The intents of files whose records are all committed are not needed for a replay any more.
  if (pruned) await intents.save(pending)
  await consumer.close()
  return result
}

/**
 * The landing's consumer. With assigned partitions (processes sharing the landing), it notes
 * which ones this process got, whose intents are then its own to replay and keep.
 */
async function openConsumer(stream: Stream, group: string, opts: LandingOptions) {
  const assign = opts.partitions
  if (!assign) return { consumer: await stream.consumer(group, opts.topics, {}), owned: undefined }
  const owned: { topic: string; partition: string }[] = []
  const consumer = await stream.consumer(group, opts.topics, {
    partitions: async (topic, all) => {
      const mine = await assign(topic, all)
      owned.push(...mine.map((partition) => ({ topic, partition })))
      return mine
    },
  })
  return { consumer, owned }
}

function intentOf(b: Buffer_): Intent {
  return { topic: b.topic, partition: b.partition, key: b.key, first: b.first, last: b.last }
}

/** Registers each raw table the round wrote to, once per run. */
async function registerTables(store: ObjectStore, files: readonly Buffer_[], registered: Set<string>) {
  for (const b of files) {
    const name = `${b.topic}.${b.resource}`
    if (registered.has(name)) continue
    await registerRaw(store, b.table.path, b.topic, b.resource)
    registered.add(name)
  }
}
