import { listTables, putTable, type TableEntry } from '../catalog/catalog.js'
import { caughtUp, commitFiles } from '../catalog/iceberg/mirror.js'
import { WeirError } from '../core/errors.js'
import { hivePartition } from '../core/paths.js'
import { parseDuration } from '../core/units.js'
import type { Engine } from '../engine/engine.js'
import type { StateStore } from '../state/state.js'
import { joinKey, type ObjectStore } from '../storage/storage.js'
import { type Ledger, type LedgerFile, liveFiles, readLedger } from './files.js'

/** What to refine again: the raw files landed since a time, or the raw files under a key or prefix. */
export type RewindTarget =
  | { readonly since: Date }
  | { readonly prefix: string }
  /** These raw files exactly (files that changed after they were refined). */
  | { readonly keys: readonly string[] }

export interface RewindResult {
  readonly table: string
  /** Raw files the target named. */
  readonly named: number
  /** Raw files to refine again: the named ones and every other one with rows in the same partitions. */
  readonly files: number
  /** Trusted partitions taken out, to be rebuilt (`all` for an unpartitioned table). */
  readonly partitions: readonly string[] | 'all'
}

/**
 * `--rewind 2026-11-20`, `--rewind 2026-11-20T06:00:00Z`, `--rewind 6h` (that long ago), or
 * `--rewind raw/x/json/tweets/2026/11/20/` (a raw file or folder).
 */
export function parseRewind(text: string, now = new Date()): RewindTarget {
  if (text.includes('/') || /\.(nd)?json|\.csv|\.parquet/.test(text))
    return { prefix: text.replace(/^\/+/, '') }
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const since = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text)
    if (!Number.isNaN(since.getTime())) return { since }
  }
  try {
    return { since: new Date(now.getTime() - parseDuration(text)) }
  } catch {
    throw new WeirError(
      `--rewind ${text}: expected a time (2026-11-20 or 2026-11-20T06:00:00Z), a duration ago (6h), or a raw file or folder (raw/x/json/tweets/2026/11/20/)`,
      { code: 'REWIND_TARGET', stage: 'refine' },
    )
  }
}

/**
 * Makes refine do part of a raw table again, exactly: the trusted partitions the named raw files
 * went to are taken out whole (with the child tables' same partitions), and every raw file with rows
 * in them is forgotten by the ledger, so the next refine rebuilds those partitions from raw as a
 * clean run would, deduped, with no copy left over. The ledger write that forgets the files also
 * records the partitions to take out; the catalog change follows, and a crash in between is finished
 * by the next refine before it reads anything.
 */
export async function rewind(
  store: ObjectStore,
  engine: Engine,
  state: StateStore,
  raw: TableEntry,
  target: RewindTarget,
): Promise<RewindResult> {
  const name = `refine/${raw.name}`
  const ledger = await applyRewind(store, engine, state, raw, await readLedger(state, name))
  const entries = Object.entries(ledger.files)
  const modified = new Map<string, Date>()
  for await (const o of store.list(raw.location)) modified.set(o.key, o.lastModified)
  const keys = 'keys' in target ? new Set(target.keys) : undefined
  const named = entries.filter(([key]) => {
    if (keys) return keys.has(key)
    if ('prefix' in target)
      return (
        key === target.prefix ||
        key.startsWith(target.prefix.endsWith('/') ? target.prefix : `${target.prefix}/`)
      )
    return 'since' in target && (modified.get(key)?.getTime() ?? 0) >= target.since.getTime()
  })
  if (named.length === 0) return { table: raw.name, named: 0, files: 0, partitions: [] }
  // A file refined before the ledger kept partitions could be anywhere: rebuild the whole table.
  const all = named.some(([, f]) => f.parts === undefined || f.parts.includes(''))
  const parts = new Set(named.flatMap(([, f]) => f.parts ?? []))
  const redo = entries.filter(([, f]) => all || f.parts === undefined || f.parts.some((p) => parts.has(p)))
  const gone = redo.filter(([key]) => !modified.has(key)).map(([key]) => key)
  if (gone.length) {
    throw new WeirError(
      `cannot rewind ${raw.name}: rebuilding its partitions needs raw files that are no longer in the lake (${gone.slice(0, 3).join(', ')}${gone.length > 3 ? `, and ${gone.length - 3} more` : ''}); restore them, or rewind a narrower range`,
      { code: 'REWIND_RAW_GONE', stage: 'refine' },
    )
  }
  const forget = new Set(redo.map(([key]) => key))
  const next: Ledger = {
    seq: ledger.seq,
    files: Object.fromEntries(entries.filter(([key]) => !forget.has(key))) as Record<string, LedgerFile>,
    drop: all ? 'all' : [...parts].sort(),
  }
  await state.put(name, next)
  await applyRewind(store, engine, state, raw, next)
  return {
    table: raw.name,
    named: named.length,
    files: redo.length,
    partitions: all ? 'all' : [...parts].sort(),
  }
}

/**
 * Takes the partitions a rewind recorded out of the trusted table and its child tables (their
 * catalog entries first, then the ledger's note, then the files), and returns the ledger as it is
 * then. Refine calls it before each batch, so an interrupted rewind is always finished.
 */
export async function applyRewind(
  store: ObjectStore,
  engine: Engine,
  state: StateStore,
  raw: TableEntry,
  ledger: Ledger,
): Promise<Ledger> {
  if (!ledger.drop) return ledger
  const drop = ledger.drop
  const out = (key: string) => drop === 'all' || drop.includes(hivePartition(key))
  const location = trustedLocation(raw)
  const children = `${location.replace(/\/$/, '')}__`
  const removed: string[] = []
  for (const listed of await listTables(store, 'trusted')) {
    if (listed.location !== location && !listed.location.startsWith(children)) continue
    const t = (await caughtUp(store, engine, listed))!
    const files = await liveFiles(store, t.location, t)
    if (!files.some(out)) continue
    const updatedAt = new Date().toISOString()
    // An Iceberg table's files stay for readers of older snapshots, until `weir maintain`.
    if (t.iceberg)
      await commitFiles(store, engine, { ...t, updatedAt }, { written: [], removed: files.filter(out) })
    else {
      removed.push(...files.filter(out))
      await putTable(store, { ...t, files: files.filter((k) => !out(k)), updatedAt })
    }
  }
  const { drop: _, ...rest } = ledger
  await state.put(`refine/${raw.name}`, rest)
  for (const k of removed) await store.delete(k)
  return rest
}

/** `trusted/<source>/<resource>/`: where a raw table's refined files go. */
export function trustedLocation(raw: TableEntry): string {
  return `${joinKey('trusted', raw.source ?? raw.name, raw.resource ?? '')}/`
}
