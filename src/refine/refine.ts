import { mkdir, readdir, rm, stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { type Column, getTable, listTables, putTable, type TableEntry } from '../catalog/catalog.js'
import { parse } from '../catalog/types.js'
import { readerSql } from '../catalog/views.js'
import { WeirError } from '../core/errors.js'
import { utcParts } from '../core/time.js'
import { type Engine, sqlIdent, sqlList, sqlString } from '../engine/engine.js'
import { localize } from '../engine/localize.js'
import type { StateStore } from '../state/state.js'
import { joinKey, type ObjectInfo, type ObjectStore } from '../storage/storage.js'
import {
  flattenSelect,
  planSchema,
  type SchemaPlan,
  type SchemaPolicy,
  type SchemaVersion,
} from './schema.js'

export interface RefineOptions {
  /** Per `source.resource`: the event-time path (partitions by its date) and primary key (deduped per run). */
  readonly tables: Readonly<
    Record<
      string,
      {
        readonly eventTime?: string
        readonly primaryKey?: string | readonly string[]
        readonly schema?: SchemaPolicy
        /** Structs become `parent_child` columns (default true). */
        readonly flatten?: boolean
      }
    >
  >
  /** A local directory for DuckDB's output before it is uploaded; emptied after each table. */
  readonly stagingDir: string
  /** Only these raw tables (by name); all when absent. */
  readonly only?: readonly string[]
  readonly now?: Date
  /** Raw files per batch at most (default 1,000): bounds temp disk and memory; a run loops over batches. */
  readonly batchFiles?: number
  /** Raw bytes per batch at most (default 256 MB; a bigger file is a batch of its own). */
  readonly batchBytes?: number
}

export interface RefineResult {
  readonly table: string
  readonly inputFiles: number
  readonly records: number
  readonly files: number
  readonly bytes: number
  /** Rows set aside in `_errors/refine/` (no readable event time). */
  readonly errors: number
  /** Trusted files replaced by rewrites of the partitions the batch touched (dedupe by primary key). */
  readonly replaced: number
  /** Raw files refined again because their content changed since they were refined. */
  readonly changed: number
  /** Schema conflicts: types widened to text, rows set aside by the table's policy. */
  readonly warnings: readonly string[]
}

/**
 * What refine has done for a raw table, in `_state/refine/<table>.json`: the last batch number, and
 * per raw file its size and version tag when refined, so a file that changed is refined again.
 */
interface Ledger {
  readonly seq: number
  readonly files: Readonly<
    Record<string, { readonly size: number; readonly etag: string; readonly seq: number }>
  >
}

/** Reads the ledger; the first bookmark format (a list of keys) is taken as files of unknown version. */
async function readLedger(state: StateStore, name: string): Promise<Ledger> {
  const saved = await state.get<{ seq: number; files: string[] | Ledger['files'] }>(name)
  if (!saved) return { seq: 0, files: {} }
  if (!Array.isArray(saved.files)) return saved as Ledger
  return {
    seq: saved.seq,
    files: Object.fromEntries(saved.files.map((k) => [k, { size: -1, etag: '', seq: 0 }])),
  }
}

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
    // Batch after batch until nothing is pending, each committed (ledger) on its own.
    let total: RefineResult | undefined
    for (;;) {
      const r = await refineTable(store, engine, state, raw, opts)
      total = total ? add(total, r) : r
      if (r.inputFiles === 0) break
    }
    results.push(total!)
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

async function refineTable(
  store: ObjectStore,
  engine: Engine,
  state: StateStore,
  raw: TableEntry,
  opts: RefineOptions,
): Promise<RefineResult> {
  const ledgerName = `refine/${raw.name}`
  const ledger = await readLedger(state, ledgerName)
  const location = `${joinKey('trusted', raw.source ?? raw.name, raw.resource ?? '')}/`
  const trusted = await getTable(store, 'trusted', raw.name)
  const live = await liveFiles(store, location, trusted)
  const pending = limitBatch(await newRawFiles(store, raw, ledger), opts)
  const empty = {
    table: raw.name,
    inputFiles: 0,
    records: 0,
    files: 0,
    bytes: 0,
    errors: 0,
    replaced: 0,
    changed: 0,
    warnings: [],
  }
  if (pending.length === 0) return empty

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
    const batch = await stageBatch(
      engine,
      raw,
      await localize(store, pending),
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
      const flat = settings.flatten === false ? undefined : flattenSelect(await describe(engine, stagedRaw))
      const staged = flat ? `(SELECT ${flat} FROM ${stagedRaw})` : stagedRaw
      // Lists of objects become child tables, linked by the parent's key and the position in the list.
      const lists =
        settings.flatten === false || !tableKeys.length
          ? []
          : (await describe(engine, staged)).filter((c) => isListOfStructs(c.type)).map((c) => c.name)
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
        const childFlat = flattenSelect(await describe(engine, rows))
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
      const plan = planSchema(o.trusted?.columns, await describe(engine, o.staged), policy)
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
        const touched = new Set([...files.keys()].map(partitionOf))
        const old = o.live.filter((k) => touched.has(partitionOf(k)))
        if (old.length) {
          const merged = join(stage, `merged-${n}`)
          const mergedDts = new Set(old.map(partitionOf))
          const fresh = [...files].filter(([k]) => mergedDts.has(partitionOf(k)))
          const result = await mergePartitions(
            engine,
            fresh.map(([, f]) => f),
            await localize(store, await infos(store, old)),
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
    await registerRaw(store, engine, raw, batch)
    const changed = pending.filter((p) => ledger.files[p.key]).length
    await state.put(ledgerName, {
      seq,
      files: {
        ...ledger.files,
        ...Object.fromEntries(pending.map((p) => [p.key, { size: p.size, etag: p.etag, seq }])),
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

/** The first pending files that fit one batch's limits (at least one file). */
function limitBatch(pending: readonly ObjectInfo[], opts: RefineOptions): ObjectInfo[] {
  const maxFiles = opts.batchFiles ?? 1_000
  const maxBytes = opts.batchBytes ?? 256 * 1024 * 1024
  const out: ObjectInfo[] = []
  let bytes = 0
  for (const p of pending) {
    if (out.length >= maxFiles || (out.length > 0 && bytes + p.size > maxBytes)) break
    out.push(p)
    bytes += p.size
  }
  return out
}

function add(a: RefineResult, b: RefineResult): RefineResult {
  return {
    table: a.table,
    inputFiles: a.inputFiles + b.inputFiles,
    records: a.records + b.records,
    files: a.files + b.files,
    bytes: a.bytes + b.bytes,
    errors: a.errors + b.errors,
    replaced: a.replaced + b.replaced,
    changed: a.changed + b.changed,
    warnings: [...a.warnings, ...b.warnings],
  }
}

/** Raw formats refine turns into Parquet. */
const REFINABLE = new Set<TableEntry['format']>(['ndjson', 'csv'])

/** `trusted/x/tweets/dt=2026-11-20/part-000001-0.parquet` → `dt=2026-11-20`. */
function partitionOf(key: string): string {
  return /\/(dt=[^/]+)\//.exec(key)?.[1] ?? ''
}

async function infos(store: ObjectStore, keys: readonly string[]): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = []
  for (const k of keys) {
    const info = await store.head(k)
    if (info) out.push(info)
  }
  return out
}

/**
 * The trusted table's live files: the catalog's list, after deleting files a crashed run left
 * outside it; for a table refined before the list existed, its folder's Parquet files.
 */
async function liveFiles(
  store: ObjectStore,
  location: string,
  entry: TableEntry | undefined,
): Promise<string[]> {
  const found: string[] = []
  for await (const o of store.list(location)) if (o.key.endsWith('.parquet')) found.push(o.key)
  if (!entry?.files) return found
  const live = new Set(entry.files)
  for (const k of found) if (!live.has(k)) await store.delete(k)
  return [...entry.files]
}

/**
 * One row per key across this batch's new files and the table's files of the same partitions, the
 * batch's copy winning (it was landed later), written as new files of those partitions.
 */
async function mergePartitions(
  engine: Engine,
  fresh: readonly string[],
  old: readonly string[],
  out: string,
  seq: number,
  keys: readonly string[],
  byParent = false,
  partitioned = true,
): Promise<string[]> {
  // A child table keeps the children of the newest copy of each parent, all of them, and only them.
  const keep = byParent
    ? `_weir_prio = max(_weir_prio) OVER (PARTITION BY ${keys.map(columnPath).join(', ')})`
    : `row_number() OVER (PARTITION BY ${keys.map(columnPath).join(', ')} ORDER BY _weir_prio DESC) = 1`
  const read = (files: readonly string[], prio: number) =>
    `SELECT *, ${prio} AS _weir_prio FROM read_parquet(${sqlList(files)}, hive_partitioning = true, union_by_name = true)`
  const rows = `SELECT * EXCLUDE (_weir_prio) FROM (${read(fresh, 1)} UNION ALL BY NAME ${read(old, 0)}) QUALIFY ${keep}`
  return (await copyParquet(engine, rows, out, `part-${pad(seq)}-m`, partitioned)).written
}

async function newRawFiles(store: ObjectStore, raw: TableEntry, ledger: Ledger): Promise<ObjectInfo[]> {
  const pending: ObjectInfo[] = []
  for await (const o of store.list(raw.location)) {
    const base = o.key.slice(o.key.lastIndexOf('/') + 1)
    if (!(raw.format === 'csv' ? /\.csv(\.gz)?$/ : /\.(nd)?json(\.gz)?$/).test(o.key) || base.startsWith('_'))
      continue
    const done = ledger.files[o.key]
    // A file refined before is refined again when its content changed (a first-format entry has no tag).
    if (!done || (done.etag !== '' && done.etag !== o.etag)) pending.push(o)
  }
  return pending
}

interface Batch {
  /** The DuckDB temp table holding the batch: the raw rows (one per key), and `dt` (NULL: no event date). */
  readonly table: string
  readonly ok: number
  readonly bad: number
}

/**
 * The one pass over the JSON: the batch goes into a DuckDB temp table (spilled to disk when large),
 * with its `dt`, one row per key. Its schema is then known for free, and each table's Parquet is
 * written once from it, flattened and fitted.
 */
async function stageBatch(
  engine: Engine,
  raw: TableEntry,
  files: readonly string[],
  table: string,
  eventTime: string | undefined,
  keys: readonly string[],
  now = new Date(),
): Promise<Batch> {
  // sample_size = -1: the schema comes from every row, so a field that first appears late in a
  // large file is not silently left out.
  // (The reader call is left open so `filename = true` can be added below.)
  const read =
    raw.format === 'csv'
      ? `${readerSql(raw, sqlList(files)).slice(0, -1)}, sample_size = -1`
      : `read_json(${sqlList(files)}, format = 'newline_delimited', union_by_name = true, sample_size = -1`
  // Within one batch the last copy of a key wins (files are named in stream order).
  const source = keys.length
    ? `(SELECT * EXCLUDE (filename) FROM ${read}, filename = true)
       QUALIFY row_number() OVER (PARTITION BY ${keys.map(columnPath).join(', ')} ORDER BY filename DESC) = 1)`
    : `${read})`
  const create = (dt: string) =>
    engine.run(`CREATE OR REPLACE TEMP TABLE ${table} AS SELECT *, ${dt} AS dt FROM ${source}`)
  if (!eventTime) await create(`DATE ${sqlString(dateOf(now))}`)
  else {
    try {
      await create(`CAST(try_cast(${columnPath(eventTime)} AS TIMESTAMP) AS DATE)`)
    } catch (err) {
      // No row of the batch has the field, so DuckDB cannot even bind it: every row lacks an event time.
      if (
        !(
          err instanceof WeirError && /Binder Error: (Could not find key|Referenced column)/.test(err.message)
        )
      )
        throw err
      await create('NULL::DATE')
    }
  }
  const { rows } = await engine.query(
    `SELECT count(*) FILTER (WHERE dt IS NOT NULL) AS ok, count(*) FILTER (WHERE dt IS NULL) AS bad FROM ${table}`,
  )
  return { table, ok: Number(rows[0]?.ok ?? 0), bad: Number(rows[0]?.bad ?? 0) }
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
async function registerRaw(store: ObjectStore, engine: Engine, raw: TableEntry, batch: Batch): Promise<void> {
  if (batch.ok + batch.bad === 0) return
  const rawColumns = await describe(engine, `(SELECT * EXCLUDE (dt) FROM ${batch.table})`)
  await putTable(store, {
    ...raw,
    columns: mergeColumns(raw.columns, rawColumns),
    updatedAt: new Date().toISOString(),
  })
}

/**
 * Rewrites a staged batch to fit the table: casts per the plan, and rows the plan sets aside
 * written, each with its reason, to `unfit` (NDJSON).
 */
async function fitSchema(
  engine: Engine,
  staged: string,
  plan: SchemaPlan,
  out: string,
  unfit: string,
  seq: number,
  partitioned = true,
): Promise<{ written: string[]; ok: number; bad: number }> {
  let bad = 0
  if (plan.reason) {
    const where = `WHERE (${plan.reason}) IS NOT NULL`
    bad = Number((await engine.query(`SELECT count(*) AS n FROM ${staged} ${where}`)).rows[0]?.n ?? 0)
    if (bad) {
      await engine.run(
        `COPY (SELECT ${plan.reason} AS _reason, * EXCLUDE (dt) FROM ${staged} ${where}) TO ${sqlString(unfit)} (FORMAT json)`,
      )
    }
  }
  const rows = `SELECT ${plan.select ?? '*'} FROM ${staged}${plan.reason ? ` WHERE (${plan.reason}) IS NULL` : ''}`
  return copyParquet(engine, rows, out, `part-${pad(seq)}-`, partitioned).then((r) => ({ ...r, bad }))
}

/**
 * Writes rows as snappy Parquet under `out`: Hive-partitioned by `dt` with files `<prefix>{i}`, or,
 * for an unpartitioned table, as one file `<prefix>0.parquet`.
 */
async function copyParquet(
  engine: Engine,
  rows: string,
  out: string,
  prefix: string,
  partitioned: boolean,
): Promise<{ written: string[]; ok: number }> {
  if (!partitioned) {
    await mkdir(out, { recursive: true })
    const file = join(out, `${prefix}0.parquet`)
    const ok = Number((await engine.query(`SELECT count(*) AS n FROM (${rows})`)).rows[0]?.n ?? 0)
    if (ok === 0) return { written: [], ok }
    await engine.run(`COPY (${rows}) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION snappy)`)
    return { written: [file], ok }
  }
  const stats = await engine.query(
    `COPY (${rows}) TO ${sqlString(out)}
     (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (dt), FILENAME_PATTERN ${sqlString(`${prefix}{i}`)},
      OVERWRITE_OR_IGNORE, RETURN_STATS)`,
  )
  return {
    written: stats.rows.map((r) => String(r.filename)).sort(),
    ok: stats.rows.reduce((n, r) => n + Number(r.count), 0),
  }
}

/** `data.time` → `"data"."time"`: struct field access in DuckDB. */
function columnPath(path: string): string {
  return path.split('.').map(sqlIdent).join('.')
}

async function describe(engine: Engine, from: string): Promise<Column[]> {
  const { rows } = await engine.query(`DESCRIBE SELECT * FROM ${from}`)
  return rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }))
}

/** Keeps every column ever seen (a later batch may lack an optional field), with the newest type. */
function mergeColumns(previous: readonly Column[], next: readonly Column[]): Column[] {
  const byName = new Map(previous.map((c) => [c.name, c]))
  for (const c of next) byName.set(c.name, c)
  return [...byName.values()]
}

/** `_errors/refine/<source>/<resource>/<yyyy>/<mm>/<dd>/<name>.ndjson`. */
function errorKey(raw: TableEntry, name: string, now = new Date()): string {
  const { yyyy, mm, dd } = utcParts(now)
  return joinKey('_errors/refine', raw.source ?? '', raw.resource ?? raw.name, yyyy, mm, dd, `${name}.ndjson`)
}

function pad(n: number): string {
  return String(n).padStart(6, '0')
}

function dateOf(d: Date): string {
  const { yyyy, mm, dd } = utcParts(d)
  return `${yyyy}-${mm}-${dd}`
}

export interface CompactResult {
  readonly table: string
  readonly partitions: number
  readonly filesBefore: number
  readonly filesAfter: number
}

/**
 * `weir refine --compact`: in each trusted table, rewrites each partition's small files (under
 * `targetBytes`, default 128 MB) as files of about that size. The new files are swapped in the
 * catalog before the old ones are deleted, as refine does, so readers never see both.
 */
export async function compact(
  store: ObjectStore,
  engine: Engine,
  opts: { readonly stagingDir: string; readonly targetBytes?: number; readonly only?: readonly string[] },
): Promise<CompactResult[]> {
  const target = opts.targetBytes ?? 128 * 1024 * 1024
  const out: CompactResult[] = []
  for (const t of await listTables(store, 'trusted')) {
    if (t.format !== 'parquet' || (opts.only && !opts.only.includes(t.name))) continue
    const live = await liveFiles(store, t.location, t)
    const sizes = new Map((await infos(store, live)).map((o) => [o.key, o]))
    const byPartition = new Map<string, string[]>()
    for (const k of live) {
      if ((sizes.get(k)?.size ?? 0) >= target) continue
      const list = byPartition.get(partitionOf(k)) ?? []
      list.push(k)
      byPartition.set(partitionOf(k), list)
    }
    const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14)
    const replaced: string[] = []
    const added: string[] = []
    let partitions = 0
    for (const [partition, files] of byPartition) {
      if (files.length < 2) continue
      partitions++
      const stage = join(opts.stagingDir, `compact-${t.name}-${partitions}`)
      await rm(stage, { recursive: true, force: true })
      await mkdir(stage, { recursive: true })
      try {
        const local = await localize(
          store,
          files.map((k) => sizes.get(k)!),
        )
        // Partition columns come from the folder names; the new files go back into the same folder.
        const rows = `SELECT * FROM read_parquet(${sqlList(local)}, hive_partitioning = false, union_by_name = true)`
        await engine.run(
          `COPY (${rows}) TO ${sqlString(stage)} (FORMAT parquet, COMPRESSION snappy, FILE_SIZE_BYTES ${target},
           FILENAME_PATTERN ${sqlString(`part-c${stamp}-{i}`)}, OVERWRITE_OR_IGNORE)`,
        )
        const folder = partition ? joinKey(t.location, partition) : t.location.replace(/\/$/, '')
        for (const f of (await readdir(stage)).sort()) {
          const key = joinKey(folder, f)
          await store.putFile(key, join(stage, f))
          added.push(key)
        }
        replaced.push(...files)
      } finally {
        await rm(stage, { recursive: true, force: true })
      }
    }
    if (replaced.length) {
      const gone = new Set(replaced)
      const files = [...live.filter((k) => !gone.has(k)), ...added].sort()
      await putTable(store, { ...t, files, updatedAt: new Date().toISOString() })
      for (const k of replaced) await store.delete(k)
    }
    out.push({
      table: t.name,
      partitions,
      filesBefore: live.length,
      filesAfter: live.length - replaced.length + added.length,
    })
  }
  return out
}
