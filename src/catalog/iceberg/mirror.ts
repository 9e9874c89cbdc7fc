import { type Engine, sqlList } from '../../engine/engine.js'
import { localize } from '../../engine/localize.js'
import { joinKey, type ObjectInfo, type ObjectStore } from '../../storage/storage.js'
import type { Column, TableEntry } from '../catalog.js'
import type { DataFile } from './manifest.js'
import { type TableMetadata, uriOf } from './metadata.js'
import { liveFiles, loadTable, manifestsOf } from './read.js'
import type { IcebergField, IcebergType } from './schema.js'
import { commit } from './table.js'

const DAY_MS = 86_400_000

/**
 * Brings a Parquet table's Iceberg metadata (`<location>/metadata/`) to the catalog entry's live
 * files, in one commit: files the entry gained are added, files it dropped removed (an overwrite
 * when both). Engines that read Iceberg then see what Weir's own views read, switching at once.
 * The files carry no field ids: the table's name mapping (`schema.name-mapping.default`) gives
 * them, as the spec provides for files written before a table was Iceberg; `dt` comes from each
 * file's partition, as an identity partition's value. Only the current snapshot is kept: refine
 * deletes the files it replaces.
 */
export async function mirrorIceberg(
  store: ObjectStore,
  engine: Engine,
  entry: TableEntry,
  /** `replace` for a compaction: the same rows in other files. */
  rewrite: 'overwrite' | 'replace' = 'overwrite',
): Promise<void> {
  if (!entry.files) return
  const loaded = await loadTable(store, entry.location)
  const have = loaded ? await liveFiles(store, loaded.metadata) : []
  const want = new Map(entry.files.map((k) => [uriOf(store, k), k]))
  const remove = have.filter((f) => !want.has(f.path)).map((f) => f.path)
  const held = new Set(have.map((f) => f.path))
  const added = [...want].filter(([uri]) => !held.has(uri))
  if (remove.length === 0 && added.length === 0 && loaded) return
  const partitioned = entry.partitioning.includes('dt')
  const columns: Column[] =
    partitioned && !entry.columns.some((c) => c.name === 'dt')
      ? [...entry.columns, { name: 'dt', type: 'DATE' }]
      : [...entry.columns]
  await commit(store, entry.location, {
    operation: remove.length ? (added.length ? rewrite : 'delete') : 'append',
    add: await describe(store, engine, added, partitioned),
    remove,
    columns,
    ...(partitioned ? { partitionBy: 'dt' } : {}),
    keepSnapshots: 1,
    properties: (m) => ({ 'schema.name-mapping.default': JSON.stringify(nameMapping(m)) }),
  })
  await dropUnreferenced(store, entry.location)
}

/** Each new file's size, row count (from its footer) and `dt` partition (from its path). */
async function describe(
  store: ObjectStore,
  engine: Engine,
  files: readonly (readonly [string, string])[],
  partitioned: boolean,
): Promise<DataFile[]> {
  if (files.length === 0) return []
  const infos = await Promise.all(files.map(([, k]) => store.head(k)))
  const objects = infos.filter((o): o is ObjectInfo => o !== undefined)
  const paths = await localize(store, objects)
  const { rows } = await engine.query(
    `SELECT file_name, num_rows FROM parquet_file_metadata(${sqlList(paths)})`,
  )
  const counts = new Map(rows.map((r) => [String(r.file_name), Number(r.num_rows)]))
  return objects.map((o, i): DataFile => {
    const dt = /(?:^|\/)dt=(\d{4}-\d\d-\d\d)\//.exec(o.key)?.[1]
    return {
      path: uriOf(store, o.key),
      recordCount: counts.get(paths[i]!) ?? 0,
      sizeBytes: o.size,
      partition: partitioned
        ? { dt: dt ? Math.round(Date.parse(`${dt}T00:00:00Z`) / DAY_MS) : null }
        : ({} as Record<string, never>),
    }
  })
}

/** The spec's name mapping of the current schema: every field id with the name files use for it. */
function nameMapping(m: TableMetadata) {
  type Mapped = { 'field-id': number; names: string[]; fields?: Mapped[] }
  const nested = (t: IcebergType): Mapped[] | undefined => {
    if (typeof t === 'string') return undefined
    if (t.type === 'struct') return t.fields.map(field)
    if (t.type === 'list') return [entry(t['element-id'], 'element', t.element)]
    return [entry(t['key-id'], 'key', t.key), entry(t['value-id'], 'value', t.value)]
  }
  const entry = (id: number, name: string, t: IcebergType): Mapped => {
    const fields = nested(t)
    return { 'field-id': id, names: [name], ...(fields ? { fields } : {}) }
  }
  const field = (f: IcebergField) => entry(f.id, f.name, f.type)
  const schema = m.schemas.find((s) => s['schema-id'] === m['current-schema-id'])!
  return schema.fields.map(field)
}

/** Deletes the manifests, manifest lists and metadata versions no kept snapshot refers to. */
async function dropUnreferenced(store: ObjectStore, location: string): Promise<void> {
  const loaded = await loadTable(store, location)
  if (!loaded) return
  const m = loaded.metadata
  const keep = new Set<string>(m.snapshots.map((s) => s['manifest-list']))
  for (const s of m.snapshots)
    for (const mf of await manifestsOf(store, m, s['snapshot-id'])) keep.add(mf.path)
  const prefix = joinKey(location, 'metadata', '')
  const current = `v${loaded.version}.metadata.json`
  for await (const o of store.list(prefix)) {
    const name = o.key.slice(o.key.lastIndexOf('/') + 1)
    const version = /^v(\d+)\.metadata\.json$/.exec(name)?.[1]
    const stale = version
      ? Number(version) < loaded.version - 1
      : name.endsWith('.avro') && !keep.has(uriOf(store, o.key))
    if (stale && name !== current) await store.delete(o.key)
  }
}
