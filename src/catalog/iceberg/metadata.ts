import { randomInt, randomUUID } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import type { ObjectStore } from '../../storage/storage.js'
import type { Column } from '../catalog.js'
import type { PartitionField } from './manifest.js'
import { type IcebergSchema, type IcebergType, icebergSchema } from './schema.js'

export interface Snapshot {
  readonly 'snapshot-id': number
  readonly 'parent-snapshot-id'?: number
  readonly 'sequence-number': number
  readonly 'timestamp-ms': number
  readonly 'manifest-list': string
  readonly summary: Readonly<Record<string, string>> & { readonly operation: string }
  readonly 'schema-id': number
}

/** Table metadata, format version 2, as the spec lays it out in JSON. */
export interface TableMetadata {
  readonly 'format-version': 2
  readonly 'table-uuid': string
  readonly location: string
  readonly 'last-sequence-number': number
  readonly 'last-updated-ms': number
  readonly 'last-column-id': number
  readonly 'current-schema-id': number
  readonly schemas: readonly IcebergSchema[]
  readonly 'default-spec-id': number
  readonly 'partition-specs': readonly {
    readonly 'spec-id': number
    readonly fields: readonly PartitionField[]
  }[]
  readonly 'last-partition-id': number
  readonly 'default-sort-order-id': number
  readonly 'sort-orders': readonly { readonly 'order-id': number; readonly fields: readonly never[] }[]
  readonly properties: Readonly<Record<string, string>>
  readonly 'current-snapshot-id': number
  readonly refs: Readonly<Record<string, { readonly 'snapshot-id': number; readonly type: 'branch' }>>
  readonly snapshots: readonly Snapshot[]
  readonly 'snapshot-log': readonly { readonly 'timestamp-ms': number; readonly 'snapshot-id': number }[]
  readonly 'metadata-log': readonly { readonly 'timestamp-ms': number; readonly 'metadata-file': string }[]
}

/** The URI of a key of the store, as Iceberg metadata names files: `file:///…` or `s3://bucket/…`. */
export function uriOf(store: ObjectStore, key: string): string {
  if (store.localPath) return pathToFileURL(store.localPath(key)).href
  return `${store.uri.replace(/\/+$/, '')}/${key}`
}

/** A snapshot id: random, positive, and exact in a double (JSON readers in JavaScript parse them). */
export const newSnapshotId = () => randomInt(1, 2 ** 47) * 64 + randomInt(0, 64)

/** A new table's metadata: schema 0 from the columns, spec 0 partitioning by identity of `partitionBy`. */
export function newMetadata(
  store: ObjectStore,
  location: string,
  columns: readonly Column[],
  partitionBy: string | undefined,
): TableMetadata {
  const { schema, lastColumnId } = icebergSchema(columns, 0, undefined, 0)
  const source = partitionBy ? schema.fields.find((f) => f.name === partitionBy) : undefined
  if (partitionBy && !source) throw new Error(`partition column ${partitionBy} is not among the columns`)
  return {
    'format-version': 2,
    'table-uuid': randomUUID(),
    location: uriOf(store, location),
    'last-sequence-number': 0,
    'last-updated-ms': Date.now(),
    'last-column-id': lastColumnId,
    'current-schema-id': 0,
    schemas: [schema],
    'default-spec-id': 0,
    'partition-specs': [
      {
        'spec-id': 0,
        fields: source
          ? [{ name: source.name, 'source-id': source.id, 'field-id': 1000, transform: 'identity' }]
          : [],
      },
    ],
    'last-partition-id': source ? 1000 : 999,
    'default-sort-order-id': 0,
    'sort-orders': [{ 'order-id': 0, fields: [] }],
    properties: { 'write.format.default': 'parquet' },
    'current-snapshot-id': -1,
    refs: {},
    snapshots: [],
    'snapshot-log': [],
    'metadata-log': [],
  }
}

/** The current schema, and the current spec's fields with the type of each one's values. */
export function current(m: TableMetadata) {
  const schema = m.schemas.find((s) => s['schema-id'] === m['current-schema-id'])!
  const spec = m['partition-specs'].find((s) => s['spec-id'] === m['default-spec-id'])!
  const fields = spec.fields.map((f) => ({
    ...f,
    type: (schema.fields.find((c) => c.id === f['source-id'])?.type ?? 'string') as IcebergType,
  }))
  return { schema, spec, fields }
}

/** The metadata with `columns` as its schema: the same schema if nothing changed, else a new one (ids kept by name). */
export function withColumns(m: TableMetadata, columns: readonly Column[]): TableMetadata {
  const { schema } = current(m)
  const next = icebergSchema(columns, m.schemas.length, schema, m['last-column-id'])
  if (JSON.stringify(next.schema.fields) === JSON.stringify(schema.fields)) return m
  return {
    ...m,
    schemas: [...m.schemas, next.schema],
    'current-schema-id': next.schema['schema-id'],
    'last-column-id': next.lastColumnId,
  }
}

/** The metadata after committing `snapshot`, which becomes current. */
export function withSnapshot(
  m: TableMetadata,
  snapshot: Snapshot,
  previousFile: string | undefined,
): TableMetadata {
  const now = snapshot['timestamp-ms']
  return {
    ...m,
    'last-sequence-number': snapshot['sequence-number'],
    'last-updated-ms': now,
    'current-snapshot-id': snapshot['snapshot-id'],
    refs: { ...m.refs, main: { 'snapshot-id': snapshot['snapshot-id'], type: 'branch' } },
    snapshots: [...m.snapshots, snapshot],
    'snapshot-log': [...m['snapshot-log'], { 'timestamp-ms': now, 'snapshot-id': snapshot['snapshot-id'] }],
    'metadata-log': previousFile
      ? [...m['metadata-log'], { 'timestamp-ms': m['last-updated-ms'], 'metadata-file': previousFile }]
      : m['metadata-log'],
  }
}
