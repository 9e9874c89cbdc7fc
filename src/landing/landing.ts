import { getTable, putTable } from '../catalog/catalog.js'
import { WeirError } from '../core/errors.js'
import { partitionPath, tableLocation } from '../core/paths.js'
import { getPath, tableName } from '../core/records.js'
import { parseEventTime, utcParts } from '../core/time.js'
import { joinKey, type ObjectStore, putJson } from '../storage/storage.js'
import type { Delivery, Stream } from '../stream/stream.js'

export interface LandingOptions {
  readonly topics: readonly string[]
  readonly maxRecords: number
  readonly maxBytes: number
  readonly maxAgeMs: number
  /** Folder template, e.g. `raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}`. */
  readonly path: string
  /** Dotted path of the event time per `source.resource`; without one, the stream timestamp is used. */
  readonly eventTime: (source: string, resource: string) => string | undefined
  /** Consumer group name; one per landing deployment. */
  readonly group?: string
  /** Stops polling; what was taken is still written and committed before `land` returns. */
  readonly signal?: AbortSignal
}

export interface LandingResult {
  readonly records: number
  readonly files: number
  readonly bytes: number
  /** Records set aside in `_errors/landing/` (not JSON, no resource). */
  readonly errors: number
  /** Records whose event time was missing or unreadable, landed by ingestion time instead. */
  readonly untimed: number
}

interface Buffer_ {
  readonly topic: string
  readonly resource: string
  readonly dir: string
  readonly lines: Buffer[]
  bytes: number
  readonly partition: string
  readonly first: string
  last: string
  readonly openedAt: number
  readonly minTs: number
  maxTs: number
}

const POLL = 5_000
const FLUSH_CONCURRENCY = 8
const HOUR = 3_600_000

/**
 * Lands everything the stream holds for these topics into raw NDJSON files and returns when caught
 * up. Records are batched per (source, resource, folder) and each batch becomes one file named after
 * its first and last stream offsets, so a replay after a crash rewrites the same names instead of
 * adding duplicates. Offsets are committed only after the files are durable.
 */
export async function land(stream: Stream, store: ObjectStore, opts: LandingOptions): Promise<LandingResult> {
  const consumer = await stream.consumer(opts.group ?? 'landing', opts.topics)
  const open = new Map<string, Buffer_>()
  const registered = new Set<string>()
  const result = { records: 0, files: 0, bytes: 0, errors: 0, untimed: 0 }

  const write = async (b: Buffer_) => {
    const name = fileName(b.partition, b.first, b.last)
    const file = joinKey(b.dir, `${name}.ndjson`)
    const body = Buffer.concat(b.lines)
    await store.put(file, body)
    // Lineage goes beside the data, not into the records; the leading _ hides it from Athena/Hive/DuckDB globs.
    await putJson(store, joinKey(b.dir, `_${name}.manifest.json`), {
      file,
      source: b.topic,
      resource: b.resource,
      offsets: { partition: b.partition, first: b.first, last: b.last },
      records: b.lines.length,
      bytes: body.length,
      ingested: { from: new Date(b.minTs).toISOString(), to: new Date(b.maxTs).toISOString() },
      landedAt: new Date().toISOString(),
    })
    result.files++
    result.bytes += body.length
  }
  // Full buffers are written together before the next poll: files are independent, and waiting on
  // each one's I/O in turn left landing idle most of the time. Offsets are committed only at the end.
  let ready: Buffer_[] = []
  const close = (key: string, b: Buffer_) => {
    open.delete(key)
    ready.push(b)
  }
  const writeReady = async () => {
    const batch = ready
    ready = []
    await inParallel(batch, FLUSH_CONCURRENCY, write)
    for (const b of batch) {
      if (registered.has(`${b.topic}.${b.resource}`)) continue
      await registerRaw(store, opts.path, b.topic, b.resource)
      registered.add(`${b.topic}.${b.resource}`)
    }
  }

  const errors: { delivery: Delivery; reason: string }[] = []
  const dirs = new Map<string, string>()
  while (!opts.signal?.aborted) {
    const batch = await consumer.poll({ maxRecords: POLL })
    if (batch.length === 0) break
    for (const d of batch) {
      const resource = d.headers.resource
      if (!resource) {
        errors.push({ delivery: d, reason: 'no resource header' })
        continue
      }
      const field = opts.eventTime(d.topic, resource)
      let eventTime: Date | undefined
      if (d.headers.run) {
        // Published by Weir's ingest: the envelope already holds the event time, and the value is
        // JSON.stringify output, so there is nothing to parse again.
        eventTime = d.headers.et ? new Date(d.headers.et) : undefined
      } else {
        let doc: unknown
        try {
          doc = JSON.parse(Buffer.from(d.value).toString('utf8'))
        } catch (err) {
          errors.push({ delivery: d, reason: `not JSON: ${(err as Error).message}` })
          continue
        }
        eventTime = field ? parseEventTime(getPath(doc, field)) : undefined
      }
      if (field && !eventTime) result.untimed++
      const time = eventTime ?? new Date(d.timestamp)
      // Templates resolve to the hour at most, so one rendering serves every record of that hour.
      const hourKey = `${d.topic}\u0000${resource}\u0000${Math.floor(time.getTime() / HOUR)}`
      let dir = dirs.get(hourKey)
      if (dir === undefined) {
        if (dirs.size > 10_000) dirs.clear()
        dir = partitionPath(opts.path, { source: d.topic, resource, format: 'json', time })
        dirs.set(hourKey, dir)
      }
      // A file holds one partition's records, so its name can come from their offsets.
      const key = `${d.topic}\u0000${resource}\u0000${dir}\u0000${d.partition}`
      const line = Buffer.concat([Buffer.from(d.value), NEWLINE])
      let b = open.get(key)
      if (b && b.bytes + line.length > opts.maxBytes) {
        close(key, b)
        b = undefined
      }
      if (!b) {
        b = {
          topic: d.topic,
          resource,
          dir,
          lines: [],
          bytes: 0,
          partition: d.partition,
          first: d.offset,
          last: d.offset,
          openedAt: Date.now(),
          minTs: d.timestamp,
          maxTs: d.timestamp,
        }
        open.set(key, b)
      }
      b.lines.push(line)
      b.bytes += line.length
      b.last = d.offset
      b.maxTs = Math.max(b.maxTs, d.timestamp)
      result.records++
      if (b.lines.length >= opts.maxRecords) close(key, b)
    }
    const now = Date.now()
    for (const [key, b] of [...open]) if (now - b.openedAt >= opts.maxAgeMs) close(key, b)
    await writeReady()
  }
  for (const [key, b] of [...open]) close(key, b)
  await writeReady()
  result.errors = errors.length
  await writeErrors(store, errors)
  // Everything polled is now in durable files (or set aside), so the whole position can be committed.
  await consumer.commit(consumer.position())
  await consumer.close()
  return result
}

const NEWLINE = Buffer.from('\n')

/** Runs `fn` over `items` with at most `limit` calls in flight. */
async function inParallel<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

/**
 * `p0-000000100-000000199`: the partition, then the first and last offsets (padded so names sort
 * by offset). Kinesis shard ids are already names (`shardId-000000000001`).
 */
function fileName(partition: string, first: string, last: string): string {
  const p = /^\d+$/.test(partition) ? `p${partition}` : partition.replace(/[^A-Za-z0-9_-]/g, '_')
  return `${p}-${first.padStart(9, '0')}-${last.padStart(9, '0')}`
}

async function registerRaw(store: ObjectStore, template: string, source: string, resource: string) {
  const name = tableName(source, resource)
  const existing = await getTable(store, 'raw', name)
  if (existing) return
  await putTable(store, {
    zone: 'raw',
    name,
    source,
    resource,
    location: tableLocation(template, { source, resource, format: 'json' }),
    format: 'ndjson',
    partitioning: [...template.matchAll(/\{(yyyy|mm|dd|hh)\}/g)].map((m) => m[1]!),
    columns: [],
    updatedAt: new Date().toISOString(),
  })
}

async function writeErrors(store: ObjectStore, errors: readonly { delivery: Delivery; reason: string }[]) {
  if (errors.length === 0) return
  const { yyyy, mm, dd } = utcParts(new Date())
  const byPartition = new Map<string, (typeof errors)[number][]>()
  for (const e of errors) {
    const k = `${e.delivery.topic}\u0000${e.delivery.partition}`
    const list = byPartition.get(k)
    if (list) list.push(e)
    else byPartition.set(k, [e])
  }
  for (const list of byPartition.values()) {
    const { topic, partition } = list[0]!.delivery
    const first = list[0]!.delivery.offset
    const last = list.at(-1)!.delivery.offset
    const lines = list.map((e) =>
      JSON.stringify({
        reason: e.reason,
        topic,
        partition,
        offset: e.delivery.offset,
        resource: e.delivery.headers.resource ?? null,
        value: Buffer.from(e.delivery.value).toString('utf8'),
      }),
    )
    const key = joinKey('_errors/landing', topic, yyyy, mm, dd, `${fileName(partition, first, last)}.ndjson`)
    await store.put(key, `${lines.join('\n')}\n`).catch((err: unknown) => {
      throw new WeirError(`landing: cannot set aside ${list.length} bad records: ${(err as Error).message}`, {
        code: 'LANDING_ERRORS_IO',
        stage: 'landing',
        cause: err,
      })
    })
  }
}
