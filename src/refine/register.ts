import { type Column, getTable, putTable, type TableEntry } from '../catalog/catalog.js'
import { mirrorIceberg } from '../catalog/iceberg/mirror.js'
import { errorsKey } from '../core/paths.js'
import { describeColumns, type Engine, sqlString } from '../engine/engine.js'
import type { ObjectStore } from '../storage/storage.js'
import type { Output } from './outputs.js'
import { type Batch, pad } from './parquet.js'
import type { SchemaPlan, SchemaVersion } from './schema.js'

/**
 * Registers each output's table; children first, so once the parent's entry moves its children
 * are in place. With `iceberg` (the engine), the tables' Iceberg metadata then follows, each table
 * its own commit, all at once, and the caller may go on meanwhile (`mirrored`): a crash before
 * they land leaves a catalog entry ahead of its metadata, which the table's next refine catches up.
 */
export async function registerOutputs(
  store: ObjectStore,
  raw: TableEntry,
  done: readonly {
    o: Output
    plan: SchemaPlan
    files: string[]
    written?: string[]
    stats?: ReadonlyMap<string, { readonly rows: number; readonly bytes: number }>
  }[],
  firstFile: string,
  partitioned: boolean,
  /** For Iceberg tables: the engine that reads new files' footers, and the snapshot retention. */
  iceberg: { engine: Engine; retentionMs: number | undefined } | undefined,
): Promise<{ mirrored: Promise<void> }> {
  const mirrors: (() => Promise<void>)[] = []
  for (const d of [...done].reverse()) {
    const { entry, previous } = await registerTrusted(
      store,
      raw,
      d.o.name,
      d.o.location,
      d.o.keys,
      d.files,
      d.plan,
      firstFile,
      partitioned,
      iceberg !== undefined,
    )
    if (iceberg)
      mirrors.push(() =>
        mirrorIceberg(store, iceberg.engine, entry, {
          previous,
          written: d.written ?? [],
          ...(d.stats ? { known: d.stats } : {}),
          retentionMs: iceberg.retentionMs,
        }),
      )
  }
  const mirrored = Promise.all(mirrors.map((m) => m())).then(() => undefined)
  mirrored.catch(() => {})
  return { mirrored }
}

/**
 * Records a trusted table: its columns as the schema plan says, a new schema version when they
 * changed, and its live files. Returns the entry written and the one it replaced.
 */
export async function registerTrusted(
  store: ObjectStore,
  raw: TableEntry,
  name: string,
  location: string,
  keys: readonly string[],
  files: readonly string[],
  plan: SchemaPlan,
  firstFile: string,
  partitioned: boolean,
  iceberg = false,
): Promise<{ entry: TableEntry; previous: TableEntry | undefined }> {
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
  const entry: TableEntry = {
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
    ...(iceberg ? { iceberg: true } : {}),
    updatedAt: now,
  }
  await putTable(store, entry)
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
