import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { getTable, type TableEntry } from '../catalog/catalog.js'
import { caughtUp } from '../catalog/iceberg/mirror.js'
import { parseDuration } from '../core/units.js'
import type { Engine } from '../engine/engine.js'
import { localize } from '../engine/localize.js'
import type { StateStore } from '../state/state.js'
import type { ObjectStore } from '../storage/storage.js'
import { limitBatch, liveFiles, newRawFiles, nextLedger, readLedger } from './files.js'
import { batchOutputs } from './outputs.js'
import { stageBatch } from './parquet.js'
import { recordRawColumns, registerOutputs, setAside } from './register.js'
import { emptyResult, type RefineOptions, type RefineResult } from './result.js'
import { applyRewind, trustedLocation } from './rewind.js'
import { writeOutputs } from './write-output.js'

export { errorKey } from './register.js'

/**
 * Refines one batch of a raw table's new files into its trusted table (and child tables): staged,
 * flattened, fitted to the schema, deduped by key, then swapped into the table (an Iceberg commit,
 * or the catalog entry) and then the ledger, so a crash at any point leaves the previous state
 * readable and the batch to redo, under the same file names.
 */
export async function refineTable(
  store: ObjectStore,
  engine: Engine,
  state: StateStore,
  raw: TableEntry,
  opts: RefineOptions,
  /** Raw files to read from another local file (a cleaned copy) than their own. */
  substitute?: ReadonlyMap<string, string>,
): Promise<RefineResult> {
  const ledgerName = `refine/${raw.name}`
  const ledger = await applyRewind(store, engine, state, raw, await readLedger(state, ledgerName))
  const { location, trusted, live } = await trustedNow(store, engine, raw)
  const pending = limitBatch(await newRawFiles(store, raw, ledger), opts)
  if (pending.length === 0) return emptyResult(raw.name)

  const { settings, keys, tableKeys, partitioned, policy, iceberg } = tableSettings(raw, opts)
  const seq = ledger.seq + 1
  const stage = join(opts.stagingDir, raw.name, String(seq))
  await rm(stage, { recursive: true, force: true })
  await mkdir(stage, { recursive: true })
  let temp: string | undefined
  try {
    // A remote lake's raw files come down into the batch's stage, deleted with it: temp disk stays
    // within the batch limits (plus the partitions a dedupe rewrites), however big the lake.
    const local = (await localize(store, pending, join(stage, 'in'))).map(
      (path, i) => substitute?.get(pending[i]!.key) ?? path,
    )
    const batch = await stageBatch(
      engine,
      raw,
      local,
      `_weir_batch_${seq}`,
      partitioned ? settings.eventTime : undefined,
      keys,
      opts.now,
    )
    temp = batch.table
    const target = { name: raw.name, location, keys: tableKeys, partitioned, trusted, live }
    const outputs = batch.ok
      ? await batchOutputs(store, engine, batch.table, { ...target, flatten: settings.flatten !== false })
      : []
    const w = await writeOutputs(store, engine, outputs, {
      seq,
      stage,
      partitioned,
      policy,
      raw,
      now: opts.now,
      iceberg: iceberg !== undefined,
    })
    if (batch.bad > 0) {
      const et = settings.eventTime
      const reason = et ? `event time "${et}" is missing or not a timestamp` : 'no event time'
      await setAside(store, engine, raw, batch.table, reason, join(stage, 'errors.ndjson'), seq, opts.now)
    }
    const mirror = iceberg && { engine, ...iceberg }
    await registerOutputs(store, raw, w.done, pending[0]!.key, partitioned, mirror)
    await recordRawColumns(store, engine, raw, batch)
    const changed = pending.filter((p) => ledger.files[p.key]).length
    await state.put(ledgerName, nextLedger(ledger, pending, batch.perFile, local, seq, partitioned))
    // Only now that readers and the ledger point at the new files may the old ones go (not an Iceberg table's: see maintain).
    if (!iceberg) for (const k of w.replaced) await store.delete(k)
    return {
      table: raw.name,
      inputFiles: pending.length,
      // Records are the trusted table's (children are rows of other tables); errors add its unfit rows.
      records: outputs.length ? w.ok : batch.ok,
      files: w.published,
      bytes: w.bytes,
      errors: batch.bad + w.bad,
      replaced: w.replaced.length,
      changed,
      warnings: w.warnings,
    }
  } finally {
    if (temp) await engine.run(`DROP TABLE IF EXISTS ${temp}`)
    await rm(stage, { recursive: true, force: true })
  }
}

/** The table's settings as refine uses them: its key (as written, and as trusted columns), partitioning and schema policy. */
function tableSettings(raw: TableEntry, opts: RefineOptions) {
  const settings = opts.tables[`${raw.source}.${raw.resource}`] ?? {}
  const keys =
    typeof settings.primaryKey === 'string' ? [settings.primaryKey] : [...(settings.primaryKey ?? [])]
  return {
    settings,
    keys,
    // In the trusted table a key inside a struct (`data.id`) is a flat column (`data_id`).
    tableKeys: settings.flatten === false ? keys : keys.map((k) => k.replaceAll('.', '_')),
    // A CSV table (movies, series) is not partitioned unless it names an event time.
    partitioned: raw.format !== 'csv' || settings.eventTime !== undefined,
    policy: settings.schema ?? 'evolve',
    iceberg:
      settings.format !== 'parquet' ? { retentionMs: parseDuration(settings.retention ?? '1h') } : undefined,
  }
}

/** The trusted table as it stands: where it lives, its catalog entry and its live files. */
async function trustedNow(store: ObjectStore, engine: Engine, raw: TableEntry) {
  const location = trustedLocation(raw)
  // A crash between an Iceberg commit and its entry's write leaves the entry behind: caught up first.
  const trusted = await caughtUp(store, engine, await getTable(store, 'trusted', raw.name))
  return { location, trusted, live: await liveFiles(store, location, trusted) }
}
