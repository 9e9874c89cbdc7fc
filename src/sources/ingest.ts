import { randomBytes } from 'node:crypto'
import { basename } from 'node:path'
import { putTable } from '../catalog/catalog.js'
import { WeirError } from '../core/errors.js'
import { errorsKey, partitionPath, tableLocation } from '../core/paths.js'
import { fingerprinter, getPath, type SourceRecord, tableName } from '../core/records.js'
import { parseEventTime } from '../core/time.js'
import type { StateStore } from '../state/state.js'
import { joinKey, type ObjectStore } from '../storage/storage.js'
import type { Stream, StreamRecordInput } from '../stream/stream.js'
import {
  BATCH_HEADER,
  type BatchIntent,
  batchTag,
  type Held,
  type Identity,
  type IngestState,
  isIdentityKey,
  presence,
  recordKey,
  recover,
} from './batch-intents.js'
import type { RawFile, Source, SourceBatch, SourceState } from './source.js'

export interface IngestOptions {
  readonly state: StateStore
  /** Folder template for files landed as they are (the landing path). */
  readonly rawPath?: string
  /** The event-time field of a resource, if configured (`created_at`, `data.time`). */
  readonly eventTime?: (resource: string) => string | undefined
  /** Stops the run: a request in flight is cut, no new batch is pulled, batches in hand are published and their cursors saved. */
  readonly signal?: AbortSignal
  /** Where the cursor is kept (default `sources/<name>`): a backfill window keeps its own. */
  readonly stateName?: string
  /** The fields that identify a record of a resource (its table's primary key), over the source's own. */
  readonly identity?: Identity
  /** Awaited before each batch of `records` is published: where backpressure waits (see `run.maxLag`). */
  readonly beforePublish?: (records: number) => Promise<void>
}

export interface IngestResult {
  readonly source: string
  readonly run: string
  readonly records: number
  readonly bytes: number
  readonly batches: number
  readonly byResource: Readonly<Record<string, number>>
  /** Files landed as they are. */
  readonly files: number
  /** Inputs set aside in `_errors/source/`. */
  readonly errors: number
  /** Records pulled again after a crash that the stream already held, so not published twice. */
  readonly recovered: number
  /** Why the run stopped early (budget or rate limit); it resumes on the next run. */
  readonly partial?: string
}

const DEFAULT_RAW = 'raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}'

/** Batches published at once, so the stream's group commit merges their fsyncs. */
const WINDOW = 4

/**
 * Runs a source once, exactly once into the stream. Each batch is numbered and recorded (an intent,
 * with the cursor it brings) before it is published; its files and unreadable input are written
 * before the publish too, under names made from its number and time; the cursor is saved once the
 * stream acknowledged it. A restart after a crash reads the stream back from the oldest intent and
 * goes on after the last batch the stream holds whole, publishing again only what it lacks.
 * Records carry their envelope in headers (source, resource, run, ingestion time, event time,
 * schema fingerprint, batch).
 */
export async function ingest(
  source: Source,
  stream: Stream,
  store: ObjectStore,
  opts: IngestOptions,
): Promise<IngestResult> {
  const { state } = opts
  const stateName = opts.stateName ?? `sources/${source.name}`
  const tag = batchTag(stateName)
  const saved = await state.get<IngestState>(stateName)
  const identity: Identity = (resource) => opts.identity?.(resource) ?? source.identity?.(resource)
  const rec = recover(saved, await presence(stream, source.name, tag, saved?.pending ?? [], identity))
  const run = `${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${randomBytes(3).toString('hex')}`
  const out = { records: 0, bytes: 0, batches: 0, files: 0, errors: 0, recovered: 0 }
  const byResource: Record<string, number> = {}
  const sourceState: SourceState = {
    get: (key) => state.get(`${stateName}/${key}`),
    put: (key, value) => state.put(`${stateName}/${key}`, value),
  }
  let doc: IngestState = { cursor: rec.cursor, cursorSeq: rec.cursorSeq, seq: rec.seq, pending: rec.pending }
  const save = coalescingWriter(() =>
    state.put(stateName, { ...doc, run, updatedAt: new Date().toISOString() }),
  )
  const update = (next: IngestState) => {
    doc = next
    return save()
  }
  if (saved?.pending?.length) await update(doc)

  // Records the stream holds from batches a crash cut short, known by their identity: an API
  // pulled again may put them on another page (new items pushed them), so they are left out of
  // whichever batch of this run they come back in.
  const moved = new Map<string, number>()
  for (const r of rec.redo.values())
    for (const [k, n] of r.present?.values ?? []) if (isIdentityKey(k)) moved.set(k, (moved.get(k) ?? 0) + n)
  const take = (from: Map<string, number> | undefined, k: string) => {
    const n = from?.get(k)
    if (!n) return false
    if (n > 1) from!.set(k, n - 1)
    else from!.delete(k)
    return true
  }
  const fingerprint = fingerprinter()
  const envelope = (records: readonly SourceRecord[], seq: number, held: Held | undefined) => {
    const ingested = Date.now()
    const at = new Date(ingested).toISOString()
    const encoded: StreamRecordInput[] = []
    // What the stream holds of this batch from before a crash is left out, record by record (by
    // identity anywhere in this run; by value in the batch that had it).
    const skip = held ? new Map([...held.values].filter(([k]) => !isIdentityKey(k))) : undefined
    for (const [i, r] of records.entries()) {
      const value = Buffer.from(serialise(source.name, r.resource, r.data))
      if (skip?.size || moved.size) {
        const h = recordKey(r.resource, value, r.data, identity)
        if (isIdentityKey(h) ? take(moved, h) : take(skip, h)) {
          out.recovered++
          continue
        }
      }
      out.bytes += value.length
      byResource[r.resource] = (byResource[r.resource] ?? 0) + 1
      const field = opts.eventTime?.(r.resource)
      const et = field ? parseEventTime(getPath(r.data, field)) : undefined
      encoded.push({
        value,
        timestamp: ingested,
        headers: {
          source: source.name,
          resource: r.resource,
          run,
          ingested: at,
          fp: fingerprint(r.data),
          [BATCH_HEADER]: `${tag}:${seq}:${i}`,
          ...(et ? { et: et.toISOString() } : {}),
        },
      })
    }
    return encoded
  }

  let partial: string | undefined
  let seq = rec.cursorSeq
  const window: { seq: number; batch: SourceBatch; count: number; published: Promise<unknown> }[] = []
  /** The oldest batch in flight, once the stream acknowledged it: its cursor is saved. */
  let refused = false
  /** The last write of the cursor; not awaited batch by batch (writes coalesce), but before returning. */
  let saving: Promise<void> = Promise.resolve()
  const finish = async () => {
    const w = window.shift()!
    try {
      await w.published
    } catch (err) {
      // Later batches may be in the stream already; their intents stay for the next run to check.
      refused = true
      throw err
    }
    out.records += w.count
    out.files += w.batch.files?.length ?? 0
    out.errors += w.batch.errors?.length ?? 0
    out.batches++
    saving = update({
      ...doc,
      seq: w.seq,
      ...(w.batch.cursor !== undefined ? { cursor: w.batch.cursor, cursorSeq: w.seq } : {}),
      pending: (doc.pending ?? []).filter((p) => p.seq > w.seq),
    })
    saving.catch(() => {}) // awaited before returning
  }
  /** Resolves once the previous batch's intent, files and set-aside input are written. */
  let prepared: Promise<unknown> = Promise.resolve()
  try {
    const pull = source
      .pull({
        cursor: rec.cursor,
        // Aborted on shutdown: a request in flight is cut, and no new page is asked for.
        signal: opts.signal ?? new AbortController().signal,
        state: sourceState,
      })
      [Symbol.asyncIterator]()
    try {
      for (;;) {
        if (opts.signal?.aborted) break
        const r = await pull.next()
        if (r.done) break
        const batch = r.value
        seq++
        if (seq <= rec.seq) {
          // Acknowledged before a crash, pulled again because the cursor saved is older: skip it.
          out.recovered += batch.records.length
          if (batch.cursor !== undefined) await update({ ...doc, cursor: batch.cursor, cursorSeq: seq })
          continue
        }
        if (batch.records.length) await opts.beforePublish?.(batch.records.length)
        const redo = rec.redo.get(seq)
        const at = redo?.at ?? Date.now()
        const encoded = envelope(batch.records, seq, redo?.present)
        const n = seq
        // The intent is durable before the publish (the writes of batches pulled meanwhile are one),
        // and so are the batch's files and set-aside input, under names of this batch: a restart
        // that finds the batch in the stream knows these are written; one that does not writes the
        // same names again. Each batch waits for the one before: publishes keep their order.
        const intentSaved =
          batch.records.length || batch.files?.length || batch.errors?.length
            ? update({
                ...doc,
                pending: [
                  ...(doc.pending ?? []).filter((p) => p.seq !== n),
                  {
                    seq: n,
                    at,
                    records: batch.records.length,
                    ...(batch.cursor !== undefined ? { cursor: batch.cursor } : {}),
                  } satisfies BatchIntent,
                ],
              })
            : undefined
        prepared = Promise.all([intentSaved, prepared]).then(async () => {
          const time = new Date(at)
          for (const f of batch.files ?? [])
            await landFile(store, opts.rawPath ?? DEFAULT_RAW, source.name, f, time)
          if (batch.errors?.length) await setAside(store, source.name, run, stateName, n, time, batch.errors)
        })
        const published = prepared.then(() => (encoded.length ? stream.publish(source.name, encoded) : []))
        published.catch(() => {}) // awaited in order by finish
        window.push({ seq, batch, count: encoded.length, published })
        if (window.length >= WINDOW) await finish()
      }
      while (window.length > 0) await finish()
    } catch (err) {
      // Batches acknowledged before the failure keep their cursors; from the first refused on, the
      // intents stay for the next run to check against the stream.
      try {
        while (window.length > 0 && !refused) await finish()
        await saving
      } catch {
        // the first error is the one to report
      }
      throw err
    } finally {
      // Nothing may still be on its way to the stream when this returns: a retry reading the
      // stream back must see every publish this run began, or it would publish them again.
      await Promise.allSettled(window.map((w) => w.published))
      await pull.return?.(undefined)
    }
    await saving
  } catch (err) {
    if (opts.signal?.aborted) partial = 'stopped by request; the next run resumes from the saved cursor'
    // Running out of budget or rate limit is the API's pace, not a failure: stop here and resume next run.
    else if (err instanceof WeirError && err.code === 'SOURCE_BUDGET_EXHAUSTED') partial = err.message
    else throw err
  }
  if (!partial && opts.signal?.aborted)
    partial = 'stopped by request; the next run resumes from the saved cursor'
  return {
    source: source.name,
    run,
    ...out,
    byResource,
    ...(partial ? { partial } : {}),
  }
}

/**
 * Writes a document as it is now, one write at a time: calls made while a write is in flight are
 * served together by the next one (a burst of intents costs one write, not one each). Each call
 * resolves once a write that started after it has finished, or rejects with that write's error.
 */
function coalescingWriter(write: () => Promise<void>): () => Promise<void> {
  let asked = 0
  let done = 0
  let running = false
  const waiting: { upTo: number; resolve: () => void; reject: (err: unknown) => void }[] = []
  const pump = async () => {
    running = true
    while (done < asked) {
      const upTo = asked
      let failed: unknown
      try {
        await write()
      } catch (err) {
        failed = err
      }
      done = upTo
      for (const w of waiting.filter((x) => x.upTo <= upTo)) {
        if (failed === undefined) w.resolve()
        else w.reject(failed)
      }
      waiting.splice(0, waiting.length, ...waiting.filter((x) => x.upTo > upTo))
    }
    running = false
  }
  return () => {
    const upTo = ++asked
    const p = new Promise<void>((resolve, reject) => waiting.push({ upTo, resolve, reject }))
    if (!running) void pump()
    return p
  }
}

function serialise(source: string, resource: string, data: unknown): string {
  let text: string | undefined
  try {
    text = JSON.stringify(data)
  } catch (err) {
    if (!(err instanceof TypeError)) throw err
  }
  if (text === undefined) {
    throw new WeirError(
      `source ${source}: a ${resource} record is not JSON-serialisable (undefined, a function, a BigInt or a cycle); yield plain JSON data`,
      { code: 'SOURCE_RECORD_INVALID', stage: 'source' },
    )
  }
  return text
}

/** Lands a file exactly as it is under the raw path (by ingestion date) and registers its table. */
async function landFile(
  store: ObjectStore,
  template: string,
  source: string,
  f: RawFile,
  time: Date,
): Promise<void> {
  const folder = partitionPath(template, { source, resource: f.resource, format: f.format, time })
  await store.putFile(joinKey(folder, basename(f.path)), f.path)
  await putTable(store, {
    zone: 'raw',
    name: tableName(source, f.resource),
    source,
    resource: f.resource,
    location: tableLocation(template, { source, resource: f.resource, format: f.format }),
    format: f.format,
    partitioning: [...template.matchAll(/\{(yyyy|mm|dd|hh)\}/g)].map((m) => m[1]!),
    ...(f.csv ? { csv: f.csv } : {}),
    columns: [],
    updatedAt: new Date().toISOString(),
  })
}

/** Unreadable input, each line with its reason, in a file named after its batch (written again, not twice, on a replay). */
async function setAside(
  store: ObjectStore,
  source: string,
  run: string,
  stateName: string,
  seq: number,
  time: Date,
  errors: readonly { reason: string; raw: string; resource?: string }[],
): Promise<void> {
  const name = `${time.getTime()}-${batchTag(stateName)}-${String(seq).padStart(9, '0')}.ndjson`
  const byResource = new Map<string | undefined, string[]>()
  for (const e of errors) {
    const lines = byResource.get(e.resource) ?? []
    lines.push(
      JSON.stringify({
        reason: e.reason,
        source,
        ...(e.resource ? { resource: e.resource } : {}),
        run,
        raw: e.raw,
      }),
    )
    byResource.set(e.resource, lines)
  }
  for (const [resource, lines] of byResource)
    await store.put(errorsKey('source', source, resource, time, name), `${lines.join('\n')}\n`)
}
