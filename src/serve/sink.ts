import { createHash } from 'node:crypto'
import { compileExpr, toFunction } from '../core/expr.js'
import { sleep } from '../core/time.js'
import type { Stream } from '../stream/stream.js'
import type { ServeConfig } from './serve-schema.js'
import type { Item, ServingStore, TableSpec } from './stores/store.js'

export function tableSpecs(cfg: ServeConfig): TableSpec[] {
  return Object.entries(cfg.tables).map(([name, t]) => ({ name, indexes: t.indexes }))
}

/**
 * The serving sink: a consumer group of its own that upserts each record into the served tables it
 * belongs to, keyed by the table's key field or by a hash of the record, with derived fields
 * computed first. Offsets are committed after the store has the batch, so a crash replays it, and a
 * replay writes the same items under the same keys: the store ends up the same.
 */
export async function serveSink(
  stream: Stream,
  store: ServingStore,
  cfg: ServeConfig,
  opts: { readonly group?: string; readonly follow?: boolean; readonly signal?: AbortSignal } = {},
): Promise<{ records: number; upserts: number }> {
  // Tables filled from a model are the model sync's (serve/model-tables.ts), not the stream's.
  const tables = Object.entries(cfg.tables)
    .filter(([, t]) => t.source !== undefined)
    .map(([name, t]) => ({
      spec: { name, indexes: t.indexes } satisfies TableSpec,
      cfg: t,
      derive: Object.entries(t.derive).map(([f, src]) => [f, toFunction(compileExpr(src))] as const),
      key: t.key ? toFunction({ t: 'path', p: t.key.split('.') }) : undefined,
    }))
  for (const t of tables) await store.ensure(t.spec)
  const topics = [...new Set(tables.flatMap((t) => (t.cfg.source ? [t.cfg.source] : [])))]
  const total = { records: 0, upserts: 0 }
  if (!topics.length) return total
  const consumer = await stream.consumer(opts.group ?? 'serving', topics)
  try {
    for (;;) {
      const batch = opts.signal?.aborted ? [] : await consumer.poll({ maxRecords: 2000 })
      const rows = new Map<string, { key: string; item: Item }[]>()
      for (const d of batch) {
        let record: unknown
        try {
          record = JSON.parse(Buffer.from(d.value).toString('utf8'))
        } catch {
          continue // landing sets unreadable records aside; serving skips them
        }
        if (record === null || typeof record !== 'object' || Array.isArray(record)) continue
        for (const t of tables) {
          if (t.cfg.source !== d.topic || (t.cfg.resource && t.cfg.resource !== d.headers.resource)) continue
          const item: Record<string, unknown> = { ...(record as Record<string, unknown>) }
          for (const [f, fn] of t.derive) item[f] = fn(record)
          const k = t.key ? t.key(record) : undefined
          const key = k === null || k === undefined ? contentKey(record) : String(k)
          rows.set(t.spec.name, [...(rows.get(t.spec.name) ?? []), { key, item }])
        }
      }
      for (const t of tables) {
        const r = rows.get(t.spec.name)
        if (r?.length) {
          await store.upsert(t.spec, r)
          total.upserts += r.length
        }
      }
      if (batch.length) await consumer.commit(consumer.position())
      total.records += batch.length
      if (batch.length === 0) {
        if (!opts.follow || opts.signal?.aborted) break
        await sleep(200)
      }
    }
  } finally {
    await consumer.close()
  }
  return total
}

/** A hash of the record's content (keys sorted), so the same record always lands on the same key. */
export function contentKey(record: unknown): string {
  return createHash('sha256').update(canonical(record)).digest('hex').slice(0, 32)
}

function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v)
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  return `{${Object.keys(v)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
    .join(',')}}`
}
