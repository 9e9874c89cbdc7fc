import { type Engine, sqlList } from '../../engine/engine.js'
import { localize } from '../../engine/localize.js'
import type { ObjectInfo, ObjectStore } from '../../storage/storage.js'
import { type Column, putTable, type TableEntry } from '../catalog.js'
import type { DataFile } from './manifest.js'
import { current, newMetadata, type TableMetadata, uriOf, withColumns } from './metadata.js'
import { liveFiles, loadTable, metadataKey, moved } from './read.js'
import { fieldIdsOption, type IcebergField, type IcebergType } from './schema.js'
import { commit } from './table.js'

const DAY_MS = 86_400_000

/**
 * Brings a Parquet table's Iceberg metadata (`<location>/metadata/`) to the catalog entry's live
 * files, in one commit: files the entry gained are added, files it dropped removed (an overwrite
 * when both). Engines that read Iceberg then see what Weir's own views read, switching at once.
 * The files carry no field ids: the table's name mapping (`schema.name-mapping.default`) gives
 * them, as the spec provides for files written before a table was Iceberg; `dt` comes from each
 * file's partition, as an identity partition's value. Only the current snapshot is kept: refine
 * deletes the files it replaces. The entry is then written again with the snapshot's id.
 *
 * What changed is the difference from `previous` (the entry before this change) when the table's
 * current snapshot is the one `previous` was mirrored at; otherwise (after a crash or a rewind)
 * from the snapshot's own file list, which reads every manifest, and a file whose size changed
 * under the same name counts as replaced. `written` are the files this change wrote: a batch run
 * again after a crash writes its files again under the same names, perhaps with other rows.
 */
export async function mirrorIceberg(
  store: ObjectStore,
  engine: Engine,
  entry: TableEntry,
  options: MirrorOptions = {},
): Promise<void> {
  const { previous, rewrite = 'overwrite', written = [], retentionMs, known } = options
  if (!entry.files) return
  const loaded = await loadTable(store, entry.location)
  const currentId = loaded?.metadata['current-snapshot-id']
  const fresh = new Set(written.map((k) => uriOf(store, k)))
  const want = new Map(entry.files.map((k) => [uriOf(store, k), k]))
  let have: string[]
  // A lake copied or moved: the history names the old place, and the next commit lists every file.
  if (loaded && moved(store, entry.location, loaded.metadata)) have = []
  else if (
    previous?.files &&
    previous.icebergSnapshot !== undefined &&
    previous.icebergSnapshot === currentId
  )
    have = previous.files.map((k) => uriOf(store, k))
  else {
    const files = loaded ? await liveFiles(store, loaded.metadata) : []
    have = files.map((f) => f.path)
    for (const f of files) {
      const key = want.get(f.path)
      if (key && (await store.head(key))?.size !== f.sizeBytes) fresh.add(f.path)
    }
  }
  const remove = have.filter((p) => !want.has(p) || fresh.has(p))
  const held = new Set(have)
  const added = [...want].filter(([uri]) => !held.has(uri) || fresh.has(uri))
  // The entry names the snapshot once it has landed, written beside the table's version hint.
  const named = (id: number, metadata: string | undefined) =>
    putTable(store, { ...entry, icebergSnapshot: id, ...(metadata ? { icebergMetadata: metadata } : {}) })
  const retention = String(retentionMs ?? '')
  const retains = loaded?.metadata.properties['history.expire.max-snapshot-age-ms'] ?? ''
  if (loaded && !remove.length && !added.length && (retentionMs === undefined || retention === retains))
    return named(loaded.metadata['current-snapshot-id'], metadataKey(entry.location, loaded.version))
  const partitioned = entry.partitioning.includes('dt')
  const columns = icebergColumns(entry)
  const described = await describe(store, engine, added, partitioned, known)
  const change = {
    operation: remove.length ? (added.length ? rewrite : 'delete') : 'append',
    add: described,
    remove,
    columns,
    ...(partitioned ? { partitionBy: 'dt' } : {}),
    properties: (m: TableMetadata) => ({
      'schema.name-mapping.default': JSON.stringify(nameMapping(m)),
      'write.metadata.previous-versions-max': '10',
      ...(retentionMs !== undefined ? { 'history.expire.max-snapshot-age-ms': retention } : {}),
    }),
  } as const
  await commit(store, entry.location, change, (done) => named(done.snapshotId, done.key))
}

export interface MirrorOptions {
  /** The entry before this change: what the table had, if its snapshot is the current one. */
  readonly previous?: TableEntry | undefined
  /** `replace` for a compaction: the same rows in other files. */
  readonly rewrite?: 'overwrite' | 'replace'
  /** The files this change wrote (perhaps again, under names the table had). */
  readonly written?: readonly string[]
  /** Rows and bytes of files this change wrote, by key, as the writer counted them: not read again. */
  readonly known?: ReadonlyMap<string, { readonly rows: number; readonly bytes: number }>
  /** How long replaced snapshots stay readable (`history.expire.max-snapshot-age-ms`); the table's own if omitted. */
  readonly retentionMs?: number | undefined
}

/**
 * The `FIELD_IDS` option, for the columns a file of the table has, that its next commit's schema
 * gives them: the ids `mirrorIceberg` will commit, as it builds that schema the same way.
 */
export async function fieldIdsFor(
  store: ObjectStore,
  location: string,
  columns: readonly Column[],
  partitioned: boolean,
): Promise<(written: readonly Column[]) => string> {
  const all = icebergColumns({ columns, partitioning: partitioned ? ['dt'] : [] })
  const loaded = await loadTable(store, location)
  const base = loaded?.metadata ?? newMetadata(store, location, all, partitioned ? 'dt' : undefined)
  const { schema } = current(withColumns(base, all))
  return (written) => fieldIdsOption(schema, written)
}

/** A table's columns as its Iceberg schema has them: a Hive `dt` partition is a DATE column there. */
export function icebergColumns(entry: Pick<TableEntry, 'columns' | 'partitioning'>): Column[] {
  return entry.partitioning.includes('dt') && !entry.columns.some((c) => c.name === 'dt')
    ? [...entry.columns, { name: 'dt', type: 'DATE' }]
    : [...entry.columns]
}

/** Each new file's size, row count (from its footer) and `dt` partition (from its path). */
async function describe(
  store: ObjectStore,
  engine: Engine,
  files: readonly (readonly [string, string])[],
  partitioned: boolean,
  known: MirrorOptions['known'],
): Promise<DataFile[]> {
  const file = (key: string, recordCount: number, sizeBytes: number): DataFile => {
    const dt = /(?:^|\/)dt=(\d{4}-\d\d-\d\d)\//.exec(key)?.[1]
    return {
      path: uriOf(store, key),
      recordCount,
      sizeBytes,
      partition: partitioned
        ? { dt: dt ? Math.round(Date.parse(`${dt}T00:00:00Z`) / DAY_MS) : null }
        : ({} as Record<string, never>),
    }
  }
  const counted = files.flatMap(([, k]) => {
    const s = known?.get(k)
    return s ? [file(k, s.rows, s.bytes)] : []
  })
  const rest = files.filter(([, k]) => !known?.has(k))
  if (rest.length === 0) return counted
  const infos = await Promise.all(rest.map(([, k]) => store.head(k)))
  const objects = infos.filter((o): o is ObjectInfo => o !== undefined)
  const paths = await localize(store, objects)
  const { rows } = await engine.query(
    `SELECT file_name, num_rows FROM parquet_file_metadata(${sqlList(paths)})`,
  )
  const counts = new Map(rows.map((r) => [String(r.file_name), Number(r.num_rows)]))
  return [...counted, ...objects.map((o, i) => file(o.key, counts.get(paths[i]!) ?? 0, o.size))]
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
