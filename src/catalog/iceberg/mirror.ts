import type { Engine } from '../../engine/engine.js'
import type { ObjectStore } from '../../storage/storage.js'
import { type Column, putTable, type TableEntry } from '../catalog.js'
import { describeFiles, icebergColumns, partitionOf } from './data-files.js'
import { carryIndex, liveIndex } from './live.js'
import type { DataFile } from './manifest.js'
import { current, newMetadata, type TableMetadata, uriOf, withColumns } from './metadata.js'
import { loadTable, metadataKey, moved } from './read.js'
import { fieldIdsOption, type IcebergField, type IcebergType } from './schema.js'
import { commit } from './table.js'

/**
 * Commits a change of an Iceberg table's files as one snapshot, then writes the table's catalog
 * entry naming it, beside the version hint: the snapshot is the one list of the table's live files,
 * and the entry keeps what only Weir knows (columns, schema history, lineage) and where the
 * snapshot is. Files the change wrote are added; those the table had under the same names (a batch
 * run again after a crash writes its files again) and those it `removed` are taken out. Nothing
 * changed and the same retention: no commit, the entry names the current snapshot. Files carry no
 * field ids when written by an older Weir: the name mapping (`schema.name-mapping.default`) gives
 * them, as the spec provides. In a lake copied or moved, the history (absolute paths to the old
 * place) starts again here, with every file the table keeps.
 */
export async function commitFiles(
  store: ObjectStore,
  engine: Engine,
  entry: TableEntry,
  change: FileChange,
): Promise<TableEntry> {
  const { rewrite = 'overwrite', retentionMs, known } = change
  const { files: _, ...rest } = entry
  const loaded = await loadTable(store, entry.location)
  const live = loaded ? await liveIndex(store, entry.location, loaded.metadata) : new Map<string, DataFile>()
  const written = new Set(change.written)
  const out = [...new Set([...(change.removed ?? []), ...written])].filter((k) => live.has(k))
  const relocating = loaded !== undefined && moved(store, entry.location, loaded.metadata)
  const remove = relocating ? [] : out.map((k) => uriOf(store, k))
  const gone = new Set(out)
  const carried = relocating
    ? [...live].filter(([k]) => !gone.has(k)).map(([k, f]) => ({ ...f, path: uriOf(store, k) }))
    : []
  let named: TableEntry = rest
  const name = async (id: number, metadata: string) => {
    named = { ...rest, icebergSnapshot: id, icebergMetadata: metadata }
    await putTable(store, named)
  }
  const retention = String(retentionMs ?? '')
  const retains = loaded?.metadata.properties['history.expire.max-snapshot-age-ms'] ?? ''
  if (
    loaded &&
    !relocating &&
    !remove.length &&
    !written.size &&
    (retentionMs === undefined || retention === retains)
  ) {
    await name(loaded.metadata['current-snapshot-id'], metadataKey(entry.location, loaded.version))
    return named
  }
  const partition = partitionOf(entry)
  const add = [...carried, ...(await describeFiles(store, engine, [...written], partition, known))]
  const commitChange = {
    operation: remove.length ? (add.length ? rewrite : 'delete') : 'append',
    add,
    remove,
    columns: icebergColumns(entry),
    ...(partition ? { partitionBy: partition.name } : {}),
    properties: (m: TableMetadata) => ({
      'schema.name-mapping.default': JSON.stringify(nameMapping(m)),
      'write.metadata.previous-versions-max': '10',
      ...(retentionMs !== undefined ? { 'history.expire.max-snapshot-age-ms': retention } : {}),
    }),
  } as const
  const done = await commit(store, entry.location, commitChange, (d) => name(d.snapshotId, d.key))
  if (!relocating) carryIndex(store, entry.location, done, out, add)
  return named
}

export interface FileChange {
  /** The files this change wrote (perhaps again, under names the table had). */
  readonly written: readonly string[]
  /** The files it takes out of the table. */
  readonly removed?: readonly string[]
  /** `replace` for a compaction: the same rows in other files. */
  readonly rewrite?: 'overwrite' | 'replace'
  /** Rows and bytes of files this change wrote, by key, as the writer counted them: not read again. */
  readonly known?: ReadonlyMap<string, { readonly rows: number; readonly bytes: number }>
  /** How long replaced snapshots stay readable (`history.expire.max-snapshot-age-ms`); the table's own if omitted. */
  readonly retentionMs?: number | undefined
}

/**
 * Makes a table's Iceberg snapshot hold exactly the files its catalog entry lists (an entry an
 * older Weir wrote, or a Hive-style table being migrated), in one commit, and drops the list from
 * the entry. A file whose size changed under the same name counts as replaced.
 */
export async function mirrorIceberg(
  store: ObjectStore,
  engine: Engine,
  entry: TableEntry,
  options: Pick<FileChange, 'rewrite' | 'retentionMs'> = {},
): Promise<TableEntry> {
  const want = entry.files ?? []
  const loaded = await loadTable(store, entry.location)
  const live = loaded ? await liveIndex(store, entry.location, loaded.metadata) : new Map<string, DataFile>()
  const keep = new Set(want)
  const written: string[] = []
  for (const k of want) {
    const had = live.get(k)
    if (!had || (await store.head(k))?.size !== had.sizeBytes) written.push(k)
  }
  const removed = [...live.keys()].filter((k) => !keep.has(k))
  return commitFiles(store, engine, entry, { ...options, written, removed })
}

/**
 * An Iceberg table's entry as it should stand before a writer reads it: an older Weir's entry
 * (its own file list) made a snapshot; an entry left naming an older snapshot (a crash between a
 * commit and the entry's write) made to name the current one. Other entries as they are.
 */
export async function caughtUp(
  store: ObjectStore,
  engine: Engine,
  entry: TableEntry | undefined,
): Promise<TableEntry | undefined> {
  if (!entry?.iceberg) return entry
  if (entry.files) return mirrorIceberg(store, engine, entry)
  const loaded = await loadTable(store, entry.location)
  const key = loaded && metadataKey(entry.location, loaded.version)
  if (!loaded || key === entry.icebergMetadata) return entry
  const named = { ...entry, icebergSnapshot: loaded.metadata['current-snapshot-id'], icebergMetadata: key! }
  await putTable(store, named)
  return named
}

/**
 * The `FIELD_IDS` option, for the columns a file of the table has, that its next commit's schema
 * gives them: the ids `commitFiles` will commit, as it builds that schema the same way.
 */
export async function fieldIdsFor(
  store: ObjectStore,
  location: string,
  columns: readonly Column[],
  /** The table's partition column (`dt` for a trusted table), if any. */
  partitionBy: string | undefined,
): Promise<(written: readonly Column[]) => string> {
  const all = icebergColumns({ columns, partitioning: partitionBy ? [partitionBy] : [] })
  const loaded = await loadTable(store, location)
  const base = loaded?.metadata ?? newMetadata(store, location, all, partitionBy)
  const { schema } = current(withColumns(base, all))
  return (written) => fieldIdsOption(schema, written)
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
