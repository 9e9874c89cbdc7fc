import { Readable } from 'node:stream'
import avro from 'avsc'
import { type EntryRecord, entrySchema, MANIFEST_FILE, type ManifestFileRecord } from './manifest-schemas.js'
import type { IcebergType } from './schema.js'

/** A data file as a manifest lists it. Partition values are as Avro holds them (a date: days since the epoch). */
export interface DataFile {
  /** Full URI with its scheme: `file:///…`, `s3://bucket/…`. */
  readonly path: string
  readonly recordCount: number
  readonly sizeBytes: number
  readonly partition: Readonly<Record<string, string | number | null>>
}

/** 0 existing, 1 added, 2 deleted. Sequence numbers are null on added entries (inherited from the manifest list). */
export interface ManifestEntry {
  readonly status: 0 | 1 | 2
  readonly snapshotId: number
  readonly sequenceNumber: number | null
  readonly fileSequenceNumber: number | null
  readonly file: DataFile
}

/** A field of a partition spec, with the Iceberg type of its values. */
export interface PartitionField {
  readonly name: string
  readonly 'source-id': number
  readonly 'field-id': number
  readonly transform: string
}

/** A manifest as the manifest list records it. */
export interface ManifestFile {
  readonly path: string
  readonly length: number
  readonly specId: number
  readonly sequenceNumber: number
  readonly minSequenceNumber: number
  readonly addedSnapshotId: number
  readonly added: { files: number; rows: number }
  readonly existing: { files: number; rows: number }
  readonly deleted: { files: number; rows: number }
  /** Per partition field of its spec, the range of values its files have: engines skip the manifest by it. */
  readonly partitions?: readonly FieldSummary[]
}

/** The spec's `field_summary`: bounds in the single-value binary serialization. */
export interface FieldSummary {
  readonly containsNull: boolean
  readonly lower: Uint8Array | null
  readonly upper: Uint8Array | null
}

/**
 * The partition summaries of a manifest's entries, for the spec's fields (identity partitions of
 * dates, integers, longs or text): whether a value is null, and the lowest and highest value.
 */
export function partitionSummaries(
  entries: readonly ManifestEntry[],
  fields: readonly (PartitionField & { type: IcebergType })[],
): FieldSummary[] {
  return fields.map((f) => {
    let containsNull = false
    let lower: string | number | undefined
    let upper: string | number | undefined
    for (const e of entries) {
      const v = e.file.partition[f.name]
      if (v === null || v === undefined) containsNull = true
      else {
        if (lower === undefined || before(v, lower)) lower = v
        if (upper === undefined || before(upper, v)) upper = v
      }
    }
    const bytes = (v: string | number | undefined) => (v === undefined ? null : singleValue(v, f.type))
    return { containsNull, lower: bytes(lower), upper: bytes(upper) }
  })
}

/** Iceberg orders text by its UTF-8 bytes (JavaScript's `<` by UTF-16 units), numbers as numbers. */
const before = (a: string | number, b: string | number) =>
  typeof a === 'string' && typeof b === 'string' ? Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0 : a < b

/** The spec's single-value serialization (Appendix D): int and date 4 bytes, long 8, little-endian; text UTF-8. */
function singleValue(v: string | number, type: IcebergType): Uint8Array {
  if (typeof v === 'string') return Buffer.from(v, 'utf8')
  const b = Buffer.alloc(type === 'long' ? 8 : 4)
  if (type === 'long') b.writeBigInt64LE(BigInt(v))
  else b.writeInt32LE(v)
  return b
}

/** An Avro object container file of `records`, with the key-value metadata readers need. */
async function container(schema: object, records: readonly object[], metadata: Record<string, string>) {
  // Given the schema itself, not a parsed type, so the header keeps its `field-id` attributes.
  const encoder = new avro.streams.BlockEncoder(
    schema as avro.Schema,
    {
      codec: 'deflate',
      metadata: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v)])),
    } as object,
  )
  const chunks: Buffer[] = []
  encoder.on('data', (c: Buffer) => chunks.push(c))
  const done = new Promise<void>((resolve, reject) => {
    encoder.on('end', resolve)
    encoder.on('error', reject)
  })
  for (const r of records) encoder.write(r)
  encoder.end()
  await done
  return Buffer.concat(chunks)
}

/** The records of an Avro object container file and its key-value metadata. */
export async function readContainer(
  bytes: Uint8Array,
): Promise<{ records: unknown[]; metadata: Record<string, string> }> {
  const decoder = new avro.streams.BlockDecoder()
  const metadata: Record<string, string> = {}
  decoder.on('metadata', (_t: unknown, _codec: unknown, header: { meta: Record<string, Buffer> }) => {
    for (const [k, v] of Object.entries(header.meta)) metadata[k] = v.toString('utf8')
  })
  const records: unknown[] = []
  Readable.from([Buffer.from(bytes)]).pipe(decoder)
  for await (const r of decoder) records.push(r)
  return { records, metadata }
}

/** A manifest of data files (Avro), with the table schema and partition spec in its metadata. */
export function manifestBytes(
  entries: readonly ManifestEntry[],
  o: {
    readonly schemaJson: string
    readonly specId: number
    readonly fields: readonly (PartitionField & { type: IcebergType })[]
  },
): Promise<Buffer> {
  const fields = o.fields.map(({ type: _, ...f }) => f)
  return container(
    entrySchema(o.fields),
    entries.map((e) => ({
      status: e.status,
      snapshot_id: e.snapshotId,
      sequence_number: e.sequenceNumber,
      file_sequence_number: e.fileSequenceNumber,
      data_file: {
        content: 0,
        file_path: e.file.path,
        file_format: 'PARQUET',
        partition: Object.fromEntries(o.fields.map((f) => [f.name, e.file.partition[f.name] ?? null])),
        record_count: e.file.recordCount,
        file_size_in_bytes: e.file.sizeBytes,
      },
    })),
    {
      schema: o.schemaJson,
      'partition-spec': JSON.stringify(fields),
      'partition-spec-id': String(o.specId),
      'format-version': '2',
      content: 'data',
    },
  )
}

/** A manifest's entries, with sequence numbers inherited from its record in the manifest list. */
export async function readManifest(bytes: Uint8Array, from: ManifestFile): Promise<ManifestEntry[]> {
  const { records } = await readContainer(bytes)
  return (records as EntryRecord[]).map((r) => {
    const f = r.data_file
    return {
      status: r.status,
      snapshotId: r.snapshot_id ?? from.addedSnapshotId,
      sequenceNumber: r.sequence_number ?? from.sequenceNumber,
      fileSequenceNumber: r.file_sequence_number ?? from.sequenceNumber,
      file: {
        path: f.file_path,
        recordCount: f.record_count,
        sizeBytes: f.file_size_in_bytes,
        partition: { ...f.partition },
      },
    }
  })
}

/** A snapshot's manifest list (Avro). */
export function manifestListBytes(
  manifests: readonly ManifestFile[],
  meta: { snapshotId: number; parentId: number | undefined; sequenceNumber: number },
): Promise<Buffer> {
  return container(
    MANIFEST_FILE,
    manifests.map((m) => ({
      manifest_path: m.path,
      manifest_length: m.length,
      partition_spec_id: m.specId,
      content: 0,
      sequence_number: m.sequenceNumber,
      min_sequence_number: m.minSequenceNumber,
      added_snapshot_id: m.addedSnapshotId,
      added_files_count: m.added.files,
      existing_files_count: m.existing.files,
      deleted_files_count: m.deleted.files,
      added_rows_count: m.added.rows,
      existing_rows_count: m.existing.rows,
      deleted_rows_count: m.deleted.rows,
      partitions: m.partitions
        ? m.partitions.map((p) => ({
            contains_null: p.containsNull,
            contains_nan: null,
            lower_bound: p.lower && Buffer.from(p.lower),
            upper_bound: p.upper && Buffer.from(p.upper),
          }))
        : null,
    })),
    {
      'snapshot-id': String(meta.snapshotId),
      ...(meta.parentId !== undefined ? { 'parent-snapshot-id': String(meta.parentId) } : {}),
      'sequence-number': String(meta.sequenceNumber),
      'format-version': '2',
    },
  )
}

export async function readManifestList(bytes: Uint8Array): Promise<ManifestFile[]> {
  const { records } = await readContainer(bytes)
  return (records as ManifestFileRecord[]).map((r) => ({
    path: r.manifest_path,
    length: r.manifest_length,
    specId: r.partition_spec_id,
    sequenceNumber: r.sequence_number,
    minSequenceNumber: r.min_sequence_number,
    addedSnapshotId: r.added_snapshot_id,
    added: { files: r.added_files_count, rows: r.added_rows_count },
    existing: { files: r.existing_files_count, rows: r.existing_rows_count },
    deleted: { files: r.deleted_files_count, rows: r.deleted_rows_count },
    ...(r.partitions
      ? {
          partitions: r.partitions.map((p) => ({
            containsNull: p.contains_null,
            lower: p.lower_bound,
            upper: p.upper_bound,
          })),
        }
      : {}),
  }))
}
