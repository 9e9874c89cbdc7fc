import { listTables } from '../catalog/catalog.js'
import { WeirError } from '../core/errors.js'
import type { Engine } from '../engine/engine.js'
import type { StateStore } from '../state/state.js'
import type { ObjectStore } from '../storage/storage.js'
import { replaceChanged } from './changed.js'
import { newRawFiles, REFINABLE, readLedger } from './files.js'
import { refineIsolating } from './isolate.js'
import { add, emptyResult, type RefineOptions, type RefineResult } from './result.js'

export type { RefineOptions, RefineResult } from './result.js'

/**
 * Turns raw NDJSON that has not been refined yet (new files, late files in old folders, and files
 * whose content changed) into snappy Parquet in the trusted zone, Hive-partitioned by the event date
 * (`dt=YYYY-MM-DD`). With a primary key, the partitions a batch touches are rewritten with one row
 * per key, the newest copy winning. The table's live files are swapped in the catalog, then the
 * ledger is written, then replaced files are deleted: a crash at any point re-runs the same batch
 * under the same file names.
 */
export async function refine(
  store: ObjectStore,
  engine: Engine,
  state: StateStore,
  opts: RefineOptions,
): Promise<RefineResult[]> {
  const results: RefineResult[] = []
  for (const raw of await listTables(store, 'raw')) {
    if (!REFINABLE.has(raw.format) || (opts.only && !opts.only.includes(raw.name))) continue
    const lease = `refine/${raw.name}`
    const got =
      !opts.leases ||
      (opts.waitForLease
        ? await opts.leases.acquireWaiting(lease, LEASE_MS, LEASE_MS)
        : await opts.leases.acquire(lease, LEASE_MS))
    if (!got) {
      const h = await opts.leases!.describe(lease)
      const who = h ? ` (${h.process ?? h.owner}, lease until ${h.expiresAt})` : ''
      results.push({ ...emptyResult(raw.name), skipped: `another process is refining it${who}` })
      continue
    }
    // Renewed while the batches run; a lease lost to a pause longer than its life, or not renewed
    // for most of it (the lake failing), stops the table before its next batch.
    let lost = false
    let renewed = Date.now()
    const renew = opts.leases
      ? setInterval(() => {
          opts.leases!.acquire(lease, LEASE_MS).then(
            (ok) => {
              if (ok) renewed = Date.now()
              else lost = true
            },
            () => {}, // tried again at the next tick; judged by `renewed` below
          )
        }, LEASE_MS / 3)
      : undefined
    try {
      const replaced = await replaceChanged(store, engine, state, raw)
      // Batch after batch until nothing is pending, each committed (ledger) on its own.
      let total: RefineResult | undefined = replaced.notes.length
        ? { ...emptyResult(raw.name), changed: replaced.changed, warnings: replaced.notes }
        : undefined
      let batches = 0
      for (;;) {
        if (lost || Date.now() - renewed > (LEASE_MS * 2) / 3)
          throw new WeirError(`refine ${raw.name}: its lease was lost (paused too long?); run refine again`, {
            code: 'LEASE_LOST',
            stage: 'refine',
            retryable: true,
          })
        const r = await refineIsolating(store, engine, state, raw, opts)
        total = total ? add(total, r) : r
        if (r.inputFiles === 0) break
        opts.onBatch?.(raw.name, { batches: ++batches, records: total.records })
      }
      results.push(total!)
    } finally {
      clearInterval(renew)
      await opts.leases?.release(lease)
    }
  }
  return results
}

export interface RefineStatus {
  readonly table: string
  /** Raw files waiting: new, late, or changed since refined. */
  readonly pending: number
  readonly pendingBytes: number
  /** Of those, files refined before whose content changed. */
  readonly changed: number
  readonly refined: number
  readonly batches: number
}

/** What `refine` would do now, per raw table, without doing it (`weir refine --status`). */
export async function refineStatus(store: ObjectStore, state: StateStore): Promise<RefineStatus[]> {
  const out: RefineStatus[] = []
  for (const raw of await listTables(store, 'raw')) {
    if (!REFINABLE.has(raw.format)) continue
    const ledger = await readLedger(state, `refine/${raw.name}`)
    const pending = await newRawFiles(store, raw, ledger)
    out.push({
      table: raw.name,
      pending: pending.length,
      pendingBytes: pending.reduce((n, p) => n + p.size, 0),
      changed: pending.filter((p) => ledger.files[p.key]).length,
      refined: Object.keys(ledger.files).length,
      batches: ledger.seq,
    })
  }
  return out
}

const LEASE_MS = 60_000
