import { randomBytes } from 'node:crypto'
import { basename } from 'node:path'
import { putTable } from '../catalog/catalog.js'
import { WeirError } from '../core/errors.js'
import { partitionPath, tableLocation } from '../core/paths.js'
import { fingerprinter, getPath, type SourceRecord, tableName } from '../core/records.js'
import { parseEventTime, utcParts } from '../core/time.js'
import type { StateStore } from '../state/state.js'
import { joinKey, type ObjectStore } from '../storage/storage.js'
import type { Stream } from '../stream/stream.js'
import type { RawFile, Source, SourceBatch, SourceState } from './source.js'

export interface IngestOptions {
  readonly state: StateStore
  /** Folder template for files landed as they are (the landing path). */
  readonly rawPath?: string
  /** The event-time field of a resource, if configured (`created_at`, `data.time`). */
  readonly eventTime?: (resource: string) => string | undefined
  /** Stops the run after the batch in hand (published, cursor saved); requests in flight finish first. */
  readonly signal?: AbortSignal
  /** Where the cursor is kept (default `sources/<name>`): a backfill window keeps its own. */
  readonly stateName?: string
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
  /** Why the run stopped early (budget or rate limit); it resumes on the next run. */
  readonly partial?: string
}

const DEFAULT_RAW = 'raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}'

/**
 * Runs a source once. Each batch is published to the stream topic named after the source with its
 * envelope in the headers (source, resource, run, ingestion time, event time, schema fingerprint),
 * and the batch's cursor is saved only after the stream acknowledged it: a crash re-pulls, never skips.
 * Files the source hands over are landed byte for byte; unreadable input goes to `_errors/source/`.
 */
export async function ingest(
  source: Source,
  stream: Stream,
  store: ObjectStore,
  opts: IngestOptions,
): Promise<IngestResult> {
  const { state } = opts
  const stateName = opts.stateName ?? `sources/${source.name}`
  const saved = await state.get<{ cursor?: unknown }>(stateName)
  const run = `${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${randomBytes(3).toString('hex')}`
  const out = { records: 0, bytes: 0, batches: 0, files: 0, errors: 0 }
  const byResource: Record<string, number> = {}
  const sourceState: SourceState = {
    get: (key) => state.get(`${stateName}/${key}`),
    put: (key, value) => state.put(`${stateName}/${key}`, value),
  }
  const fingerprint = fingerprinter()
  const envelope = (records: readonly SourceRecord[]) => {
    const ingested = Date.now()
    const at = new Date(ingested).toISOString()
    return records.map((r) => {
      const value = Buffer.from(serialise(source.name, r.resource, r.data))
      out.bytes += value.length
      byResource[r.resource] = (byResource[r.resource] ?? 0) + 1
      const field = opts.eventTime?.(r.resource)
      const et = field ? parseEventTime(getPath(r.data, field)) : undefined
      return {
        value,
        timestamp: ingested,
        headers: {
          source: source.name,
          resource: r.resource,
          run,
          ingested: at,
          fp: fingerprint(r.data),
          ...(et ? { et: et.toISOString() } : {}),
        },
      }
    })
  }
  let partial: string | undefined
  try {
    // The source's own signal is never aborted here: an interrupted run finishes its request and
    // batch rather than throwing it away, and stops between batches (checked below).
    const pull = source
      .pull({
        cursor: saved?.cursor,
        signal: new AbortController().signal,
        state: sourceState,
      })
      [Symbol.asyncIterator]()
    // Up to four batches are published at once, so the stream's group commit merges their fsyncs;
    // each is finished in order (files, errors, then its cursor) once its own publish is acknowledged.
    // If one fails, later ones may already be in the stream: the next run pulls them again, which
    // downstream dedupe absorbs (at-least-once, never a skip).
    const window: { batch: SourceBatch; count: number; published: Promise<unknown> }[] = []
    let broken = false
    const finish = async () => {
      const { batch, count, published } = window.shift()!
      try {
        await published
      } catch (err) {
        // From here on no cursor may be saved: it would move past the batch the stream refused.
        broken = true
        throw err
      }
      for (const f of batch.files ?? []) await landFile(store, opts.rawPath ?? DEFAULT_RAW, source.name, f)
      if (batch.errors?.length) await setAside(store, source.name, run, out.batches, batch.errors)
      out.records += count
      out.files += batch.files?.length ?? 0
      out.errors += batch.errors?.length ?? 0
      out.batches++
      if (batch.cursor !== undefined) {
        await state.put(stateName, { cursor: batch.cursor, run, updatedAt: new Date().toISOString() })
      }
    }
    try {
      for (;;) {
        const r = await pull.next()
        if (r.done) break
        const encoded = envelope(r.value.records)
        const published = encoded.length ? stream.publish(source.name, encoded) : Promise.resolve([])
        published.catch(() => {})
        window.push({ batch: r.value, count: encoded.length, published })
        if (window.length >= 4) await finish()
        if (opts.signal?.aborted) {
          partial = 'stopped by request; the next run resumes from the saved cursor'
          break
        }
      }
      while (window.length > 0) await finish()
    } catch (err) {
      // Whatever failed, batches already acknowledged keep their cursors; a failed publish stops that.
      try {
        while (window.length > 0 && !broken) await finish()
      } catch {
        // the original error is the one to report
      }
      throw err
    } finally {
      await pull.return?.(undefined)
    }
  } catch (err) {
    // Running out of budget or rate limit is the API's pace, not a failure: stop here and resume next run.
    if (!(err instanceof WeirError && err.code === 'SOURCE_BUDGET_EXHAUSTED')) throw err
    partial = err.message
  }
  return { source: source.name, run, ...out, byResource, ...(partial ? { partial } : {}) }
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
async function landFile(store: ObjectStore, template: string, source: string, f: RawFile): Promise<void> {
  const folder = partitionPath(template, { source, resource: f.resource, format: f.format, time: new Date() })
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

async function setAside(
  store: ObjectStore,
  source: string,
  run: string,
  batch: number,
  errors: readonly { reason: string; raw: string }[],
): Promise<void> {
  const { yyyy, mm, dd } = utcParts(new Date())
  const lines = errors.map((e) => JSON.stringify({ reason: e.reason, source, run, raw: e.raw }))
  await store.put(
    joinKey('_errors/source', source, yyyy, mm, dd, `${run}-${batch}.ndjson`),
    `${lines.join('\n')}\n`,
  )
}
