import { listTables, type TableEntry } from '../catalog/catalog.js'
import { parseDuration } from '../core/units.js'
import type { Sandbox } from '../engine/sandbox.js'
import type { Pipeline } from './pipeline.js'

export interface LineageNode {
  /** `source:x`, `raw.x_tweets`, `trusted.x_tweets`, `refined.fact_tweet`, `served:tweets`, `warehouse:postgres`. */
  readonly id: string
  readonly kind: 'source' | 'raw' | 'trusted' | 'refined' | 'served' | 'warehouse'
  readonly label: string
}

/**
 * Where every table's data comes from, as the lake records it: each source feeds its raw tables
 * (named `<source>_<resource>`), raw feeds the trusted table of the same name, each model reads
 * the tables its last build read (its refs), served tables read their model or source, and the
 * warehouse loads the refined tables.
 */
export async function lineage(
  p: Pipeline,
): Promise<{ nodes: LineageNode[]; edges: { from: string; to: string }[] }> {
  const tables = await listTables(p.store)
  const nodes = new Map<string, LineageNode>()
  const edges: { from: string; to: string }[] = []
  const add = (n: LineageNode) => nodes.set(n.id, n)
  const key = (t: TableEntry) => `${t.zone}.${t.name}`
  // The config's sources, and any a raw table came from (a lake filled by another config).
  const sources = new Set([
    ...Object.keys(p.config.sources),
    ...tables.flatMap((t) => (t.zone === 'raw' && t.source ? [t.source] : [])),
  ])
  for (const name of sources) add({ id: `source:${name}`, kind: 'source', label: name })
  for (const t of tables) add({ id: key(t), kind: t.zone, label: key(t) })
  for (const t of tables) {
    if (t.zone === 'raw') {
      const source = t.source ?? Object.keys(p.config.sources).find((s) => t.name.startsWith(`${s}_`))
      if (source && nodes.has(`source:${source}`)) edges.push({ from: `source:${source}`, to: key(t) })
    }
    // A child table (`x_tweets__entities_hashtags`, a list of objects) comes from its parent's raw files.
    const raw = `raw.${t.name.split('__')[0]}`
    if (t.zone === 'trusted' && nodes.has(raw)) edges.push({ from: raw, to: key(t) })
    for (const input of Object.keys(t.model?.inputs ?? {}))
      if (nodes.has(input)) edges.push({ from: input, to: key(t) })
  }
  for (const [name, s] of Object.entries(p.config.serve.tables)) {
    add({ id: `served:${name}`, kind: 'served', label: `served ${name}` })
    const from = s.model ? `refined.${s.model}` : s.source ? `source:${s.source}` : undefined
    if (from && nodes.has(from)) edges.push({ from, to: `served:${name}` })
  }
  if (p.config.warehouse?.postgres) {
    add({ id: 'warehouse:postgres', kind: 'warehouse', label: 'PostgreSQL' })
    for (const t of tables)
      if (t.zone === 'refined' && t.format !== 'view') edges.push({ from: key(t), to: 'warehouse:postgres' })
  }
  return { nodes: [...nodes.values()], edges }
}

export interface Freshness {
  readonly table: string
  readonly rows: number | null
  /** The newest event time in the table (its `eventTime` column), ISO. */
  readonly newestEvent: string | null
  /** When its files last changed. */
  readonly lastFile: string
  /** Seconds from the newest event to now. */
  readonly lagSeconds: number | null
  /** The last file is older than `serve.staleAfter`. */
  readonly stale: boolean
}

/** What a table's rows say of its freshness, as of the catalog entry it was counted at. */
export type FreshnessCache = Map<string, { updatedAt: string; rows: number; newest: Date | undefined }>

/**
 * Per trusted and refined table: rows, newest event, last file, lag, and whether it is stale. A
 * table is counted again only when its files changed (`cache`, kept by the caller): pages redraw
 * each time a run ends, and most runs leave most tables as they were.
 */
export async function freshness(
  p: Pipeline,
  box: Sandbox,
  cache: FreshnessCache = new Map(),
  /** When `box` attached the lake: a count from before the table's last change is not kept. */
  boxSince = 0,
): Promise<{ staleAfter: string; tables: Freshness[] }> {
  const staleMs = parseDuration(p.config.serve.staleAfter)
  const now = Date.now()
  const out: Freshness[] = []
  for (const t of await listTables(p.store)) {
    if (t.zone === 'raw') continue
    const key = `${t.zone}.${t.name}`
    let counted = cache.get(key)
    if (counted?.updatedAt !== t.updatedAt) {
      counted = await count(p, box, t)
      // A query that failed, or read the table as the sandbox attached it before its last change,
      // is asked again next time.
      if (counted && boxSince >= Date.parse(t.updatedAt)) cache.set(key, counted)
      else cache.delete(key)
    }
    const newest = counted?.newest
    out.push({
      table: key,
      rows: counted ? counted.rows : null,
      newestEvent: newest ? newest.toISOString() : null,
      lastFile: t.updatedAt,
      lagSeconds: newest ? Math.round((now - newest.getTime()) / 1000) : null,
      stale: now - Date.parse(t.updatedAt) > staleMs,
    })
  }
  return { staleAfter: String(p.config.serve.staleAfter), tables: out }
}

async function count(p: Pipeline, box: Sandbox, t: TableEntry) {
  const col = eventColumn(p, t)
  const rel = `${t.zone}."${t.name.replaceAll('"', '""')}"`
  const r = await box
    .query(
      `select count(*) as n${col ? `, max(try_cast("${col.replaceAll('"', '""')}" as timestamptz)) as newest` : ''} from ${rel}`,
    )
    .then((q) => q.rows[0])
    .catch(() => undefined)
  if (!r) return undefined
  const newest = r.newest ? new Date(String(r.newest)) : undefined
  return {
    updatedAt: t.updatedAt,
    rows: Number(r.n),
    newest: newest && !Number.isNaN(newest.getTime()) ? newest : undefined,
  }
}

/** A trusted table's event time as its column (`data.time` → `data_time`); a model's `created_at`-like column. */
function eventColumn(p: Pipeline, t: TableEntry): string | undefined {
  const path = t.source && t.resource ? p.config.tables[`${t.source}.${t.resource}`]?.eventTime : undefined
  const names = new Set(t.columns.map((c) => c.name))
  const flat = path?.replace(/\./g, '_')
  if (flat && names.has(flat)) return flat
  return ['created_at', 'event_time', 'observed_at', 'time', 'timestamp'].find((c) => names.has(c))
}
