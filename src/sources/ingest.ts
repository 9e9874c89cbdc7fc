import { randomBytes } from 'node:crypto'
import { coalescingWriter } from '../core/coalescing-writer.js'
import { WeirError } from '../core/errors.js'
import type { OnProgress } from '../core/progress.js'
import type { StateStore } from '../state/state.js'
import type { ObjectStore } from '../storage/storage.js'
import type { Stream } from '../stream/stream.js'
import {
  type BatchIntent,
  batchTag,
  type Identity,
  type IngestState,
  presence,
  recover,
} from './batch-intents.js'
import { landFile, setAside } from './batch-output.js'
import { createEnvelope } from './envelope.js'
import type { Source, SourceBatch, SourceState } from './source.js'

export interface IngestOptions {
  readonly state: StateStore
  /** Folder template for files landed as they are: the landing path, or the table's own. */
  readonly rawPath?: string | ((resource: string) => string)
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
  /** SQL over the lake's tables, for sources whose requests come from what the lake holds. */
  readonly query?: (sql: string) => Promise<readonly Record<string, unknown>[]>
  /** A long-lived source reads until `signal` aborts (see PullContext.follow). */
  readonly follow?: boolean
  /** Told after each published batch: records so far, and how far through its input a source is where it knows. */
  readonly onProgress?: OnProgress
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

const rawTemplate = (path: IngestOptions['rawPath'], resource: string) =>
  (typeof path === 'function' ? path(resource) : path) ?? DEFAULT_RAW

/**
 * Runs a source once, exactly once into the stream. Each batch is numbered and recorded (an intent,
 * with the cursor it brings) before it is published; its files and unreadable input are written
 * before the publish too, under names made from its number and time; the cursor is saved once the
 * stream acknowledged it. A restart after a crash reads the stream back from the oldest intent and
 * goes on after the last batch the stream holds whole, publishing again only what it lacks.
 * Records carry their envelope in headers (source, resource, run, ingestion time, event time,
 * schema fingerprint, batch).
 *
 * Long on purpose: the order of intent, files, publish and cursor save is the exactly-once
 * guarantee, and it is checked best read top to bottom in one place.
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

  const envelope = createEnvelope({
    source: source.name,
    run,
    tag,
    identity,
    eventTime: opts.eventTime,
    redo: rec.redo.values(),
    out,
    byResource,
  })
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
    const at = w.batch.progress
    opts.onProgress?.(
      at
        ? { stage: 'ingest', label: source.name, unit: 'bytes', ...at, records: out.records }
        : { stage: 'ingest', label: source.name, unit: 'records', done: out.records },
    )
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
        ...(opts.query ? { query: opts.query } : {}),
        ...(opts.follow ? { follow: true } : {}),
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
            await landFile(store, rawTemplate(opts.rawPath, f.resource), source.name, f, time)
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
