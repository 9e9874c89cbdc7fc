import { createHash } from 'node:crypto'
import { getPath } from '../core/records.js'
import type { Stream } from '../stream/stream.js'

/**
 * A batch about to be published, recorded in the source's state before the publish: after a crash
 * between the stream's acknowledgement and the cursor's save, the restart reads the stream back
 * from `at` and finds the batch there, instead of publishing it a second time.
 */
export interface BatchIntent {
  /** The batch's number in its source's (or backfill window's) sequence. */
  readonly seq: number
  /** When it was recorded (ms since the epoch): where the read-back starts; also the date of its files. */
  readonly at: number
  /** Records in the batch. */
  readonly records: number
  /** The source's cursor after this batch, when it gave one. */
  readonly cursor?: unknown
}

/** What an ingest keeps in `_state/sources/<source>.json` (or a backfill window's document). */
export interface IngestState {
  readonly cursor?: unknown
  /** The batch that gave `cursor`: a restart pulls from the cursor, numbering batches on from here. */
  readonly cursorSeq?: number
  /** The last batch the stream acknowledged (its files and set-aside rows written before it). */
  readonly seq?: number
  /** Batches recorded but not known to be acknowledged, oldest first. */
  readonly pending?: readonly BatchIntent[]
  readonly run?: string
  readonly updatedAt?: string
}

/** Where a restart goes on from, once the stream has told which recorded batches it holds. */
export interface Recovery {
  readonly cursor: unknown
  readonly cursorSeq: number
  /** Batches up to here are acknowledged: pulled again (from an older cursor), they are skipped whole. */
  readonly seq: number
  /** Batches after `seq` that were recorded: their time, and the records the stream holds already. */
  readonly redo: ReadonlyMap<number, { readonly at: number; readonly present: Held | undefined }>
  /** The intents still unresolved (kept until their batches are acknowledged). */
  readonly pending: readonly BatchIntent[]
}

/**
 * The record header that names a record's batch and place in it: `<tag>:<seq>:<index>`, the tag a
 * short hash of the state document (a source and each of its backfill windows count on their own).
 */
export const BATCH_HEADER = 'batch'

export function batchTag(stateName: string): string {
  return createHash('sha1').update(stateName).digest('hex').slice(0, 8)
}

/**
 * What the stream holds of one recorded batch: its records' places in the batch (how complete it
 * is), and their values as a multiset of hashes (what to leave out when it is published again; by
 * value, so a batch pulled again with some records changed or moved, as an API's first page is
 * after new items arrived, still skips exactly the records the stream has).
 */
export interface Held {
  readonly indexes: Set<number>
  readonly values: Map<string, number>
}

/**
 * Which field identifies a record of a resource (a primary key, or the id an API pages by), when
 * known: a record pulled again after a crash is matched by it, since an API may send the same item
 * with other values (a tweet whose metrics grew). Without one, records are matched by their bytes.
 */
export type Identity = (resource: string) => readonly string[] | undefined

/** The hash a record is known by in `Held.values`: its resource and identity, or its bytes. */
export function recordKey(resource: string, value: Uint8Array, data: unknown, identity?: Identity): string {
  const fields = identity?.(resource)
  if (fields?.length) {
    const parsed = data === undefined ? parseJson(value) : data
    const id = fields.map((f) => getPath(parsed, f))
    if (id.every((v) => v !== undefined && v !== null))
      return `i:${createHash('sha1')
        .update(`${resource}\u0000${JSON.stringify(id)}`)
        .digest('base64')}`
  }
  return `b:${createHash('sha1').update(value).digest('base64')}`
}

/** Whether a key names a record by its identity (not its bytes): such a record may move between batches. */
export function isIdentityKey(key: string): boolean {
  return key.startsWith('i:')
}

function parseJson(value: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(value).toString('utf8'))
  } catch {
    return undefined
  }
}

/**
 * Decides where to go on from (pure). Recorded batches are taken as acknowledged, in order, while
 * the stream holds every one of their records; a batch without records counts when a later batch
 * reached the stream (its files were written before that publish began). The cursor moves to the
 * last such batch that gave one. What is left is published again, but for the records already there.
 */
export function recover(saved: IngestState | undefined, present: ReadonlyMap<number, Held>): Recovery {
  let seq = saved?.seq ?? 0
  let cursor = saved?.cursor
  let cursorSeq = saved?.cursorSeq ?? seq
  const pending = [...(saved?.pending ?? [])].filter((p) => p.seq > seq).sort((a, b) => a.seq - b.seq)
  const held = (p: BatchIntent) => present.get(p.seq)?.indexes.size ?? 0
  let i = 0
  for (; i < pending.length; i++) {
    const p = pending[i]!
    const complete = p.records > 0 ? held(p) >= p.records : pending.slice(i + 1).some((q) => held(q) > 0)
    if (!complete) break
    seq = p.seq
    if (p.cursor !== undefined) {
      cursor = p.cursor
      cursorSeq = p.seq
    }
  }
  const redo = new Map<number, { at: number; present: Held | undefined }>()
  for (const p of pending) if (p.seq > seq) redo.set(p.seq, { at: p.at, present: present.get(p.seq) })
  return { cursor, cursorSeq, seq, redo, pending: pending.slice(i) }
}

/**
 * What the stream holds of these recorded batches: it is read back from the oldest intent's time
 * (only what was published since, a few batches' worth after a crash).
 */
export async function presence(
  stream: Stream,
  topic: string,
  tag: string,
  pending: readonly BatchIntent[],
  identity?: Identity,
): Promise<Map<number, Held>> {
  const out = new Map<number, Held>()
  if (pending.length === 0) return out
  const wanted = new Set(pending.map((p) => p.seq))
  const since = Math.min(...pending.map((p) => p.at))
  const prefix = `${tag}:`
  for await (const page of stream.readSince(topic, since)) {
    for (const d of page) {
      const h = d.headers[BATCH_HEADER]
      if (!h?.startsWith(prefix)) continue
      const [, s, i] = h.split(':')
      const seq = Number(s)
      if (!wanted.has(seq)) continue
      let held = out.get(seq)
      if (!held) {
        held = { indexes: new Set(), values: new Map() }
        out.set(seq, held)
      }
      held.indexes.add(Number(i))
      const v = recordKey(d.headers.resource ?? '', d.value, undefined, identity)
      held.values.set(v, (held.values.get(v) ?? 0) + 1)
    }
  }
  return out
}
