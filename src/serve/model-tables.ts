import { compileExpr, toFunction } from '../core/expr.js'
import type { ServeConfig } from './serve-schema.js'
import type { Item, ServingStore, TableSpec } from './stores/store.js'

type TableConfig = ServeConfig['tables'][string]

/** What one sync of a model's served table did. */
export interface ModelTableSync {
  readonly table: string
  readonly upserts: number
  readonly deletes: number
  /** Rows without a key, left out. */
  readonly keyless: number
}

/**
 * Makes a served table hold exactly a model's rows: each row upserted under its key (derived fields
 * computed first), then every key the table holds that the model no longer has deleted. Upserts
 * come first, so a reader never finds the table emptier than either build; run again, it changes
 * nothing. The model's keys are held in memory: served models are aggregates, not event tables.
 */
export async function syncModelTable(
  store: ServingStore,
  spec: TableSpec,
  cfg: Pick<TableConfig, 'key' | 'derive'>,
  rows: readonly Readonly<Record<string, unknown>>[],
): Promise<ModelTableSync> {
  const keyOf = toFunction({ t: 'path', p: (cfg.key ?? '').split('.') })
  const derive = Object.entries(cfg.derive).map(([f, src]) => [f, toFunction(compileExpr(src))] as const)
  await store.ensure(spec)
  const items: { key: string; item: Item }[] = []
  let keyless = 0
  for (const row of rows) {
    const k = keyOf(row)
    if (k === null || k === undefined) {
      keyless++
      continue
    }
    const item: Record<string, unknown> = { ...row }
    for (const [f, fn] of derive) item[f] = fn(row)
    items.push({ key: String(k), item })
  }
  for (let i = 0; i < items.length; i += 1000) await store.upsert(spec, items.slice(i, i + 1000))
  const wanted = new Set(items.map((r) => r.key))
  const gone: string[] = []
  let cursor: string | undefined
  do {
    const page = await store.query(spec, { limit: 1000, desc: false, ...(cursor ? { cursor } : {}) })
    for (const r of page.items) if (!wanted.has(r.key)) gone.push(r.key)
    cursor = page.cursor
  } while (cursor)
  await store.delete(spec, gone)
  return { table: spec.name, upserts: items.length, deletes: gone.length, keyless }
}
