import { fingerprinter, getPath, type SourceRecord } from '../core/records.js'
import { parseEventTime } from '../core/time.js'
import type { StreamRecordInput } from '../stream/stream.js'
import { BATCH_HEADER, type Held, type Identity, isIdentityKey, recordKey } from './batch-intents.js'
import { serialise } from './batch-output.js'

export interface EnvelopeOptions {
  readonly source: string
  readonly run: string
  /** The batch tag of the source's state: with the batch number and position, each record's place. */
  readonly tag: string
  readonly identity: Identity
  readonly eventTime: ((resource: string) => string | undefined) | undefined
  /** Batches a crash cut short: what the stream holds of them is not published again. */
  readonly redo: Iterable<{ readonly present?: Held | undefined }>
  /** Counters this run adds to: bytes published, records recovered (already in the stream). */
  readonly out: { bytes: number; recovered: number }
  readonly byResource: Record<string, number>
}

/**
 * Encodes a batch's records for the stream, their envelope in headers (source, resource, run,
 * ingestion time, event time, schema fingerprint, batch), leaving out what the stream holds already.
 */
export function createEnvelope(o: EnvelopeOptions) {
  // Records the stream holds from batches a crash cut short, known by their identity: an API
  // pulled again may put them on another page (new items pushed them), so they are left out of
  // whichever batch of this run they come back in.
  const moved = new Map<string, number>()
  for (const r of o.redo)
    for (const [k, n] of r.present?.values ?? []) if (isIdentityKey(k)) moved.set(k, (moved.get(k) ?? 0) + n)
  const take = (from: Map<string, number> | undefined, k: string) => {
    const n = from?.get(k)
    if (!n) return false
    if (n > 1) from!.set(k, n - 1)
    else from!.delete(k)
    return true
  }
  const fingerprint = fingerprinter()
  return (records: readonly SourceRecord[], seq: number, held: Held | undefined): StreamRecordInput[] => {
    const ingested = Date.now()
    const at = new Date(ingested).toISOString()
    const encoded: StreamRecordInput[] = []
    // What the stream holds of this batch from before a crash is left out, record by record (by
    // identity anywhere in this run; by value in the batch that had it).
    const skip = held ? new Map([...held.values].filter(([k]) => !isIdentityKey(k))) : undefined
    for (const [i, r] of records.entries()) {
      const value = Buffer.from(serialise(o.source, r.resource, r.data))
      if (skip?.size || moved.size) {
        const h = recordKey(r.resource, value, r.data, o.identity)
        if (isIdentityKey(h) ? take(moved, h) : take(skip, h)) {
          o.out.recovered++
          continue
        }
      }
      o.out.bytes += value.length
      o.byResource[r.resource] = (o.byResource[r.resource] ?? 0) + 1
      const field = o.eventTime?.(r.resource)
      const et = field ? parseEventTime(getPath(r.data, field)) : undefined
      encoded.push({
        value,
        timestamp: ingested,
        headers: {
          source: o.source,
          resource: r.resource,
          run: o.run,
          ingested: at,
          fp: fingerprint(r.data),
          [BATCH_HEADER]: `${o.tag}:${seq}:${i}`,
          ...(et ? { et: et.toISOString() } : {}),
        },
      })
    }
    return encoded
  }
}
