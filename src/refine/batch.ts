import { mkdir, rm, stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { type Column, getTable, putTable, type TableEntry } from '../catalog/catalog.js'
import { parse } from '../catalog/types.js'
import { errorsKey, hivePartition } from '../core/paths.js'
import { describeColumns, type Engine, sqlIdent, sqlString } from '../engine/engine.js'
import { localize } from '../engine/localize.js'
import type { StateStore } from '../state/state.js'
import { joinKey, type ObjectStore } from '../storage/storage.js'
import { infos, type Ledger, limitBatch, liveFiles, newRawFiles, readLedger } from './files.js'
import { type Batch, fitSchema, mergePartitions, pad, stageBatch } from './parquet.js'
import { emptyResult, type RefineOptions, type RefineResult } from './result.js'
import { applyRewind, trustedLocation } from './rewind.js'
import { flattenSelect, planSchema, type SchemaPlan, type SchemaVersion } from './schema.js'

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
  const ledger = await applyRewind(store, state, raw, await readLedger(state, ledgerName))
  const location = trustedLocation(raw)
  const trusted = await getTable(store, 'trusted', raw.name)
  const live = await liveFiles(store, location, trusted)
  const pending = limitBatch(await newRawFiles(store, raw, ledger), opts)
  if (pending.length === 0) return emptyResult(raw.name)

  const settings = opts.tables[`${raw.source}.${raw.resource}`] ?? {}
  const keys =
    typeof settings.primaryKey === 'string' ? [settings.primaryKey] : [...(settings.primaryKey ?? [])]
  // In the trusted table a key inside a struct (`data.id`) is a flat column (`data_id`).
  const tableKeys = settings.flatten === false ? keys : keys.map((k) => k.replaceAll('.', '_'))
  const seq = ledger.seq + 1
  const stage = join(opts.stagingDir, raw.name, String(seq))
  await rm(stage, { recursive: true, force: true })
  await mkdir(stage, { recursive: true })
  let temp: string | undefined
  try {
    // A CSV table (movies, series) is not partitioned unless it names an event time.
    const partitioned = raw.format !== 'csv' || settings.eventTime !== undefined
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
    const warnings: string[] = []
    const policy = settings.schema ?? 'evolve'
    const outputs: Output[] = []
    if (batch.ok) {
      const stagedRaw = partitioned
        ? `(SELECT * FROM ${batch.table} WHERE dt IS NOT NULL)`
        : `(SELECT * EXCLUDE (dt) FROM ${batch.table})`
      const flat =
        settings.flatten === false ? undefined : flattenSelect(await describeColumns(engine, stagedRaw))
      const staged = flat ? `(SELECT ${flat} FROM ${stagedRaw})` : stagedRaw
      // Lists of objects become child tables, linked by the parent's key and the position in the list.
      const lists =
        settings.flatten === false || !tableKeys.length
          ? []
          : (await describeColumns(engine, staged)).filter((c) => isListOfStructs(c.type)).map((c) => c.name)
      outputs.push({
        name: raw.name,
        location,
        staged: lists.length
          ? `(SELECT * EXCLUDE (${lists.map(sqlIdent).join(', ')}) FROM ${staged})`
          : staged,
        keys: tableKeys,
        parentKeys: undefined,
        trusted,
        live,
      })
      for (const list of lists) {
        const name = `${raw.name}__${list}`
        const childLocation = `${location.replace(/\/$/, '')}__${list}/`
        const entry = await getTable(store, 'trusted', name)
        const parentKeys = tableKeys.map((k) => `parent_${k}`)
        const items = `(SELECT ${tableKeys.map((k, i) => `${sqlIdent(k)} AS ${sqlIdent(parentKeys[i]!)}`).join(', ')},${partitioned ? ' dt,' : ''}
            UNNEST(range(1, len(${sqlIdent(list)}) + 1)) AS position, UNNEST(${sqlIdent(list)}) AS _weir_item
          FROM ${staged} WHERE ${sqlIdent(list)} IS NOT NULL)`
        const rows = `(SELECT * EXCLUDE (_weir_item), UNNEST(_weir_item) FROM ${items})`
        const childFlat = flattenSelect(await describeColumns(engine, rows))
        outputs.push({
          name,
          location: childLocation,
          staged: childFlat ? `(SELECT ${childFlat} FROM ${rows})` : rows,
          keys: [...parentKeys, 'position'],
          parentKeys,
          trusted: entry,
          live: await liveFiles(store, childLocation, entry),
        })
      }
    }
    let ok = batch.ok
    let bad = batch.bad
    let bytes = 0
    let published = 0
    const replaced: string[] = []
    const done: { o: Output; plan: SchemaPlan; files: string[] }[] = []
    for (const [n, o] of outputs.entries()) {
      // Fit the batch to the table's schema (cast, widen, or set rows aside), by the table's policy.
      const plan = planSchema(o.trusted?.columns, await describeColumns(engine, o.staged), policy)
      warnings.push(...plan.changes.filter((c) => c.includes('do not fit')).map((c) => `${o.name}: ${c}`))
      // One write of Parquet per table: from the staged rows, cast and filtered to fit.
      const base = join(stage, `fitted-${n}`)
      const unfit = join(stage, `unfit-${n}.ndjson`)
      const fitted = await fitSchema(engine, o.staged, plan, base, unfit, seq, partitioned)
      const written = fitted.written
      if (n === 0) {
        ok = fitted.ok
        bad += fitted.bad
      }
      if (fitted.bad) {
        const key = errorKey(raw, `${pad(seq)}-schema${n ? `-${n}` : ''}`, opts.now)
        await store.putFile(key, unfit)
        warnings.push(
          `${o.name}: ${fitted.bad} rows did not fit the table's schema (${policy}); set aside in ${key}`,
        )
      }
      // Dedupe against what the table holds, in the partitions this batch touches.
      const files = new Map<string, string>() // lake key → local file
      for (const f of written) files.set(joinKey(o.location, relative(base, f).split(sep).join('/')), f)
      const gone: string[] = []
      if (o.keys.length) {
        const touched = new Set([...files.keys()].map(hivePartition))
        const old = o.live.filter((k) => touched.has(hivePartition(k)))
        if (old.length) {
          const merged = join(stage, `merged-${n}`)
          const mergedDts = new Set(old.map(hivePartition))
          const fresh = [...files].filter(([k]) => mergedDts.has(hivePartition(k)))
          const result = await mergePartitions(
            engine,
            fresh.map(([, f]) => f),
            await localize(store, await infos(store, old), join(stage, 'in')),
            merged,
            seq,
            o.parentKeys ?? o.keys,
            o.parentKeys !== undefined,
            partitioned,
          )
          for (const [k] of fresh) files.delete(k)
          for (const f of result) files.set(joinKey(o.location, relative(merged, f).split(sep).join('/')), f)
          gone.push(...old.filter((k) => !files.has(k)))
        }
      }
      for (const [key, f] of files) {
        await store.putFile(key, f)
        bytes += (await stat(f)).size
      }
      published += files.size
      replaced.push(...gone)
      const drop = new Set(gone)
      done.push({
        o,
        plan,
        files: [...new Set([...o.live.filter((k) => !drop.has(k)), ...files.keys()])].sort(),
      })
    }
    if (batch.bad > 0) {
      const reason = settings.eventTime
        ? `event time "${settings.eventTime}" is missing or not a timestamp`
        : 'no event time'
      await setAside(store, engine, raw, batch.table, reason, join(stage, 'errors.ndjson'), seq, opts.now)
    }
    // Children first: once the parent's entry moves, its children are already in place.
    for (const d of [...done].reverse()) {
      await registerTrusted(
        store,
        raw,
        d.o.name,
        d.o.location,
        d.o.keys,
        d.files,
        d.plan,
        pending[0]!.key,
        partitioned,
      )
    }
    await recordRawColumns(store, engine, raw, batch)
    const changed = pending.filter((p) => ledger.files[p.key]).length
    await state.put(ledgerName, {
      seq,
      files: {
        ...ledger.files,
        ...Object.fromEntries(
          pending.map((p, i) => {
            const got = batch.perFile.get(local[i]!)
            const parts = partitioned ? (got?.parts ?? []) : got?.records ? [''] : []
            return [p.key, { size: p.size, etag: p.etag, seq, records: got?.records ?? 0, parts }]
          }),
        ),
      },
    } satisfies Ledger)
    // Only now that readers and the ledger point at the new files may the old ones go.
    for (const k of replaced) await store.delete(k)
    return {
      table: raw.name,
      inputFiles: pending.length,
      records: ok,
      files: published,
      bytes,
      errors: bad,
      replaced: replaced.length,
      changed,
      warnings,
    }
  } finally {
    if (temp) await engine.run(`DROP TABLE IF EXISTS ${temp}`)
    await rm(stage, { recursive: true, force: true })
  }
}

/** Writes rejected rows, each with its reason, to `_errors/refine/<source>/<resource>/<date>/<batch>.ndjson`. */
async function setAside(
  store: ObjectStore,
  engine: Engine,
  raw: TableEntry,
  table: string,
  reason: string,
  local: string,
  seq: number,
  now = new Date(),
): Promise<void> {
  await engine.run(
    `COPY (SELECT ${sqlString(reason)} AS _reason, * EXCLUDE (dt) FROM ${table} WHERE dt IS NULL)
     TO ${sqlString(local)} (FORMAT json)`,
  )
  const key = errorKey(raw, pad(seq), now)
  await store.putFile(key, local)
}

/** One table a batch writes: the trusted table itself, or one of its child tables. */
interface Output {
  readonly name: string
  readonly location: string
  /** The batch's rows for this table, as a DuckDB relation over the staged temp table. */
  readonly staged: string
  /** Key columns: the table's primary key, or for a child table its parent's key and the position. */
  readonly keys: readonly string[]
  /** For a child table: the parent's key columns (a new parent copy replaces all its children). */
  readonly parentKeys: readonly string[] | undefined
  readonly trusted: TableEntry | undefined
  readonly live: readonly string[]
}

function isListOfStructs(type: string): boolean {
  const t = parse(type)
  return t.kind === 'list' && t.of.kind === 'struct'
}

/**
 * Records a trusted table: its columns as the schema plan says, a new schema version when they
 * changed, and its live files.
 */
async function registerTrusted(
  store: ObjectStore,
  raw: TableEntry,
  name: string,
  location: string,
  keys: readonly string[],
  files: readonly string[],
  plan: SchemaPlan,
  firstFile: string,
  partitioned: boolean,
): Promise<void> {
  const now = new Date().toISOString()
  const previous = await getTable(store, 'trusted', name)
  const versions: SchemaVersion[] = [
    ...(previous?.versions ??
      (previous
        ? [{ version: 1, columns: previous.columns, firstFile: '', at: previous.updatedAt, changes: [] }]
        : [])),
  ]
  if (!previous)
    versions.push({ version: 1, columns: plan.columns, firstFile, at: now, changes: ['created'] })
  else if (plan.changes.length) {
    versions.push({
      version: versions.length + 1,
      columns: plan.columns,
      firstFile,
      at: now,
      changes: plan.changes,
    })
  }
  await putTable(store, {
    zone: 'trusted',
    name,
    ...(raw.source ? { source: raw.source } : {}),
    ...(raw.resource ? { resource: raw.resource } : {}),
    location,
    format: 'parquet',
    partitioning: partitioned ? ['dt'] : [],
    ...(keys.length ? { primaryKey: keys } : {}),
    columns: plan.columns,
    versions,
    files,
    updatedAt: now,
  })
}

/** Records the raw table's columns, read from the staged Parquet footers (cheaper than the JSON). */
async function recordRawColumns(
  store: ObjectStore,
  engine: Engine,
  raw: TableEntry,
  batch: Batch,
): Promise<void> {
  if (batch.ok + batch.bad === 0) return
  const rawColumns = await describeColumns(engine, `(SELECT * EXCLUDE (dt) FROM ${batch.table})`)
  await putTable(store, {
    ...raw,
    columns: mergeColumns(raw.columns, rawColumns),
    updatedAt: new Date().toISOString(),
  })
}

/** Keeps every column ever seen (a later batch may lack an optional field), with the newest type. */
function mergeColumns(previous: readonly Column[], next: readonly Column[]): Column[] {
  const byName = new Map(previous.map((c) => [c.name, c]))
  for (const c of next) byName.set(c.name, c)
  return [...byName.values()]
}

/** `_errors/refine/<source>/<resource>/<yyyy>/<mm>/<dd>/<name>.ndjson`. */
export function errorKey(raw: TableEntry, name: string, now = new Date()): string {
  return errorsKey('refine', raw.source ?? '', raw.resource ?? raw.name, now, `${name}.ndjson`)
}
