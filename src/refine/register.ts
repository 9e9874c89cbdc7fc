import { type Column, getTable, putTable, type TableEntry } from '../catalog/catalog.js'
import { commitFiles, mirrorIceberg } from '../catalog/iceberg/mirror.js'
import { errorsKey } from '../core/paths.js'
import { describeColumns, type Engine, sqlString } from '../engine/engine.js'
import type { ObjectStore } from '../storage/storage.js'
import type { Output } from './outputs.js'
import { type Batch, pad } from './parquet.js'
import type { SchemaPlan, SchemaVersion } from './schema.js'

/**
 * Registers each output's table; children first, so once the parent moves its children are in
 * place. A Parquet table's catalog entry lists its live files, and writing it is the swap. An
 * Iceberg table's swap is its commit (all the batch's tables side by side), each followed by its
 * entry; the ledger may move only once they have all landed, as a crash before then runs the
 * batch again, writing the same files under the same names.
 */
export async function registerOutputs(
  store: ObjectStore,
  raw: TableEntry,
  done: readonly {
    o: Output
    plan: SchemaPlan
    files: string[]
    written?: string[]
    gone?: string[]
    stats?: ReadonlyMap<string, { readonly rows: number; readonly bytes: number }>
  }[],
  firstFile: string,
  partitioned: boolean,
  /** For Iceberg tables: the engine that reads new files' footers, and the snapshot retention. */
  iceberg: { engine: Engine; retentionMs: number | undefined } | undefined,
): Promise<void> {
  const commits: Promise<unknown>[] = []
  for (const d of [...done].reverse()) {
    const t = { name: d.o.name, location: d.o.location, keys: d.o.keys, plan: d.plan }
    const { entry, previous } = await trustedEntry(store, raw, t, firstFile, partitioned)
    if (!iceberg) {
      await putTable(store, { ...entry, files: d.files })
      continue
    }
    // A Hive-style table whose config now says Iceberg: its first commit is every live file.
    if (previous && !previous.iceberg) {
      const first = mirrorIceberg(store, iceberg.engine, { ...entry, iceberg: true, files: d.files }, iceberg)
      first.catch(() => {})
      commits.push(first)
      continue
    }
    const change = {
      written: d.written ?? [],
      removed: d.gone ?? [],
      ...(d.stats ? { known: d.stats } : {}),
      retentionMs: iceberg.retentionMs,
    }
    const committing = commitFiles(store, iceberg.engine, { ...entry, iceberg: true }, change)
    committing.catch(() => {})
    commits.push(committing)
  }
  await Promise.all(commits)
}

/**
 * A trusted table's catalog entry: its columns as the schema plan says, and a new schema version
 * when they changed.
 */
async function trustedEntry(
  store: ObjectStore,
  raw: TableEntry,
  t: { name: string; location: string; keys: readonly string[]; plan: SchemaPlan },
  firstFile: string,
  partitioned: boolean,
): Promise<{ entry: TableEntry; previous: TableEntry | undefined }> {
  const { plan } = t
  const now = new Date().toISOString()
  const previous = await getTable(store, 'trusted', t.name)
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
  const entry: TableEntry = {
    zone: 'trusted',
    name: t.name,
    ...(raw.source ? { source: raw.source } : {}),
    ...(raw.resource ? { resource: raw.resource } : {}),
    location: t.location,
    format: 'parquet',
    partitioning: partitioned ? ['dt'] : [],
    ...(t.keys.length ? { primaryKey: t.keys } : {}),
    columns: plan.columns,
    versions,
    updatedAt: now,
  }
  return { entry, previous }
}

/** Records the raw table's columns, read from the staged Parquet footers (cheaper than the JSON). */
export async function recordRawColumns(
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

/** Writes rejected rows, each with its reason, to `_errors/refine/<source>/<resource>/<date>/<batch>.ndjson`. */
export async function setAside(
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
