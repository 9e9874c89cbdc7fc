import { createHash } from 'node:crypto'
import { mkdir, rm, stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { type Column, getTable, listTables, putTable, type TableEntry } from '../catalog/catalog.js'
import { parse } from '../catalog/types.js'
import { errorMessage, WeirError } from '../core/errors.js'
import { utcParts } from '../core/time.js'
import { type Engine, sqlIdent, sqlString } from '../engine/engine.js'
import { localize } from '../engine/localize.js'
import type { Leases } from '../state/lease.js'
import type { StateStore } from '../state/state.js'
import { joinKey, type ObjectInfo, type ObjectStore } from '../storage/storage.js'
import {
  infos,
  type Ledger,
  limitBatch,
  liveFiles,
  newRawFiles,
  partitionOf,
  REFINABLE,
  readLedger,
} from './files.js'
import { type BadLine, cleanNdjson, isDataError } from './isolate.js'
import { type Batch, describe, fitSchema, mergePartitions, pad, stageBatch } from './parquet.js'
import { applyRewind, rewind, trustedLocation } from './rewind.js'
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
  /**
   * Leases in the lake: a table is refined by one process at a time; a table another process holds
   * is skipped (and said so). Without it, the caller guarantees a single refiner.
   */
  readonly leases?: Leases
  /** Wait for a table another live process holds, up to its lease's life, instead of skipping it (one-shot runs). */
  readonly waitForLease?: boolean
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
  /** Why the table was not refined at all (another process holds it): nothing of it was done. */
  readonly skipped?: string
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
      const replaced = await replaceChanged(store, state, raw)
      // Batch after batch until nothing is pending, each committed (ledger) on its own.
      let total: RefineResult | undefined = replaced.notes.length
        ? { ...emptyResult(raw.name), changed: replaced.changed, warnings: replaced.notes }
        : undefined
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

/**
 * One batch, and if the data makes it fail (a record or file DuckDB rejects), the fault isolated:
 * the batch is halved until one file fails alone; that file's bad lines are found and set aside in
 * `_errors/refine/` with DuckDB's reason, and its good lines refined. A file that still cannot be
 * refined (or is not NDJSON) is set aside whole. The table goes on either way.
 */
async function refineIsolating(
  store: ObjectStore,
  engine: Engine,
  state: StateStore,
  raw: TableEntry,
  opts: RefineOptions,
): Promise<RefineResult> {
  try {
    return await refineTable(store, engine, state, raw, opts)
  } catch (err) {
    if (!isDataError(err)) throw err
    const ledger = await readLedger(state, `refine/${raw.name}`)
    const pending = limitBatch(await newRawFiles(store, raw, ledger), opts)
    if (pending.length > 1)
      return refineIsolating(store, engine, state, raw, {
        ...opts,
        batchFiles: Math.ceil(pending.length / 2),
      })
    const file = pending[0]!
    const work = join(opts.stagingDir, raw.name, `isolate-${Date.now()}`)
    try {
      if (raw.format === 'ndjson') {
        const [local] = await localize(store, [file], join(work, 'in'))
        const { clean, bad } = await cleanNdjson(engine, local!, join(work, 'clean'))
        const r = await refineTable(store, engine, state, raw, opts, new Map([[file.key, clean]])).catch(
          (again: unknown) => {
            if (!isDataError(again)) throw again
            return undefined
          },
        )
        if (r) {
          if (bad.length) await setAsideLines(store, raw, file, bad, opts.now)
          return {
            ...r,
            errors: r.errors + bad.length,
            warnings: [
              ...r.warnings,
              ...(bad.length
                ? [`${raw.name}: ${bad.length} line(s) of ${file.key} set aside (${bad[0]!.reason})`]
                : []),
            ],
          }
        }
      }
      return await setAsideFile(store, state, raw, file, err, opts.now)
    } finally {
      await rm(work, { recursive: true, force: true })
    }
  }
}

async function refineTable(
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
    await registerRaw(store, engine, raw, batch)
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

const LEASE_MS = 60_000

/**
 * Raw files that changed after they were refined (edited, rewritten, touched, or every file of a
 * copied lake) replace their rows rather than adding them again: their trusted partitions are
 * rewound, so this run rebuilds them from raw, with or without a primary key. When a partition
 * cannot be rebuilt (some of its raw files are gone), the old rows stay and the file is taken as
 * it is now, with a warning that says how to rebuild by hand.
 */
async function replaceChanged(
  store: ObjectStore,
  state: StateStore,
  raw: TableEntry,
): Promise<{ changed: number; notes: string[] }> {
  const name = `refine/${raw.name}`
  const ledger = await readLedger(state, name)
  const changed = (await newRawFiles(store, raw, ledger)).filter((o) => ledger.files[o.key])
  if (changed.length === 0) return { changed: 0, notes: [] }
  try {
    const r = await rewind(store, state, raw, { keys: changed.map((o) => o.key) })
    const parts = r.partitions === 'all' ? 'the whole table' : `${r.partitions.length} partition(s)`
    return {
      changed: changed.length,
      notes: [`${raw.name}: ${changed.length} raw file(s) changed since refined; rebuilt ${parts} from raw`],
    }
  } catch (err) {
    if (!(err instanceof WeirError && err.code === 'REWIND_RAW_GONE')) throw err
    const files = { ...ledger.files }
    for (const o of changed) files[o.key] = { ...files[o.key]!, size: o.size, etag: o.etag }
    await state.put(name, { ...ledger, files } satisfies Ledger)
    return {
      changed: 0,
      notes: [
        `${raw.name}: ${changed.length} raw file(s) changed since refined (${changed[0]!.key}${changed.length > 1 ? ', …' : ''}) but their partitions cannot be rebuilt: ${err.message.replace(/^cannot rewind [^:]+: /, '')}; their old rows are kept`,
      ],
    }
  }
}

function emptyResult(table: string): RefineResult {
  return {
    table,
    inputFiles: 0,
    records: 0,
    files: 0,
    bytes: 0,
    errors: 0,
    replaced: 0,
    changed: 0,
    warnings: [],
  }
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

/** Keeps every column ever seen (a later batch may lack an optional field), with the newest type. */
function mergeColumns(previous: readonly Column[], next: readonly Column[]): Column[] {
  const byName = new Map(previous.map((c) => [c.name, c]))
  for (const c of next) byName.set(c.name, c)
  return [...byName.values()]
}

/** The lines of a raw file that could not be refined, each with its reason, file and line number. */
async function setAsideLines(
  store: ObjectStore,
  raw: TableEntry,
  file: ObjectInfo,
  bad: readonly BadLine[],
  now?: Date,
): Promise<void> {
  const lines = bad.map((b) =>
    JSON.stringify({ _reason: b.reason, _file: file.key, _line: b.line, raw: b.raw }),
  )
  // Named after the file and its version: isolating it again after a crash writes the same name.
  const name = `isolated-${createHash('sha1').update(`${file.key}@${file.etag}`).digest('hex').slice(0, 16)}`
  await store.put(errorKey(raw, name, now), `${lines.join('\n')}\n`)
}

/**
 * A raw file refine cannot read at all: recorded in `_errors/refine/` with the reason (the file stays
 * where it is, in raw), and in the ledger as done with no rows, so the table goes on. A new version
 * of the file is tried again.
 */
async function setAsideFile(
  store: ObjectStore,
  state: StateStore,
  raw: TableEntry,
  file: ObjectInfo,
  err: unknown,
  now?: Date,
): Promise<RefineResult> {
  const reason = errorMessage(err)
    .replace(/^SQL failed[^:]*: /, '')
    .replace(/ \(in: .*\)$/, '')
  await setAsideLines(store, raw, file, [{ line: 0, reason: `the whole file: ${reason}`, raw: '' }], now)
  const name = `refine/${raw.name}`
  const ledger = await readLedger(state, name)
  await state.put(name, {
    ...ledger,
    files: {
      ...ledger.files,
      [file.key]: { size: file.size, etag: file.etag, seq: ledger.seq, records: 0, parts: [] },
    },
  } satisfies Ledger)
  return {
    ...emptyResult(raw.name),
    inputFiles: 1,
    errors: 1,
    warnings: [`${raw.name}: ${file.key} could not be refined and is set aside: ${reason}`],
  }
}

/** `_errors/refine/<source>/<resource>/<yyyy>/<mm>/<dd>/<name>.ndjson`. */
function errorKey(raw: TableEntry, name: string, now = new Date()): string {
  const { yyyy, mm, dd } = utcParts(now)
  return joinKey('_errors/refine', raw.source ?? '', raw.resource ?? raw.name, yyyy, mm, dd, `${name}.ndjson`)
}
