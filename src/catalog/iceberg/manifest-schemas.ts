import type { PartitionField } from './manifest.js'
import type { IcebergType } from './schema.js'

/** A `manifest_entry` as Avro decodes it. */
export interface EntryRecord {
  readonly status: 0 | 1 | 2
  readonly snapshot_id: number | null
  readonly sequence_number: number | null
  readonly file_sequence_number: number | null
  readonly data_file: {
    readonly file_path: string
    readonly record_count: number
    readonly file_size_in_bytes: number
    readonly partition: Record<string, string | number | null>
  }
}

/** A `manifest_file` as Avro decodes it. */
export type ManifestFileRecord = { readonly manifest_path: string } & {
  readonly [k in
    | 'manifest_length'
    | 'partition_spec_id'
    | 'sequence_number'
    | 'min_sequence_number'
    | 'added_snapshot_id'
    | 'added_files_count'
    | 'existing_files_count'
    | 'deleted_files_count'
    | 'added_rows_count'
    | 'existing_rows_count'
    | 'deleted_rows_count']: number
} & {
  readonly partitions:
    | readonly {
        readonly contains_null: boolean
        readonly lower_bound: Uint8Array | null
        readonly upper_bound: Uint8Array | null
      }[]
    | null
}

const optional = (type: unknown, fieldId: number, name: string) => ({
  name,
  type: ['null', type],
  default: null,
  'field-id': fieldId,
})

/** The Avro type of a partition value, per the spec's Appendix A. */
function avroOf(t: IcebergType): unknown {
  switch (t) {
    case 'date':
      return { type: 'int', logicalType: 'date' }
    case 'int':
      return 'int'
    case 'long':
      return 'long'
    default:
      return 'string'
  }
}

/** The spec's `manifest_entry` (v2) with the partition struct of `fields`, field ids as `field-id`. */
export function entrySchema(fields: readonly (PartitionField & { type: IcebergType })[]) {
  return {
    type: 'record',
    name: 'manifest_entry',
    fields: [
      { name: 'status', type: 'int', 'field-id': 0 },
      optional('long', 1, 'snapshot_id'),
      optional('long', 3, 'sequence_number'),
      optional('long', 4, 'file_sequence_number'),
      {
        name: 'data_file',
        'field-id': 2,
        type: {
          type: 'record',
          name: 'r2',
          fields: [
            { name: 'content', type: 'int', 'field-id': 134 },
            { name: 'file_path', type: 'string', 'field-id': 100 },
            { name: 'file_format', type: 'string', 'field-id': 101 },
            {
              name: 'partition',
              'field-id': 102,
              type: {
                type: 'record',
                name: 'r102',
                fields: fields.map((f) => optional(avroOf(f.type), f['field-id'], f.name)),
              },
            },
            { name: 'record_count', type: 'long', 'field-id': 103 },
            { name: 'file_size_in_bytes', type: 'long', 'field-id': 104 },
          ],
        },
      },
    ],
  }
}

/** The spec's `manifest_file` (v2). */
export const MANIFEST_FILE = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    { name: 'manifest_path', type: 'string', 'field-id': 500 },
    { name: 'manifest_length', type: 'long', 'field-id': 501 },
    { name: 'partition_spec_id', type: 'int', 'field-id': 502 },
    { name: 'content', type: 'int', 'field-id': 517 },
    { name: 'sequence_number', type: 'long', 'field-id': 515 },
    { name: 'min_sequence_number', type: 'long', 'field-id': 516 },
    { name: 'added_snapshot_id', type: 'long', 'field-id': 503 },
    { name: 'added_files_count', type: 'int', 'field-id': 504 },
    { name: 'existing_files_count', type: 'int', 'field-id': 505 },
    { name: 'deleted_files_count', type: 'int', 'field-id': 506 },
    { name: 'added_rows_count', type: 'long', 'field-id': 512 },
    { name: 'existing_rows_count', type: 'long', 'field-id': 513 },
    { name: 'deleted_rows_count', type: 'long', 'field-id': 514 },
    optional(
      {
        type: 'array',
        'element-id': 508,
        items: {
          type: 'record',
          name: 'r508',
          fields: [
            { name: 'contains_null', type: 'boolean', 'field-id': 509 },
            optional('boolean', 518, 'contains_nan'),
            optional('bytes', 510, 'lower_bound'),
            optional('bytes', 511, 'upper_bound'),
          ],
        },
      },
      507,
      'partitions',
    ),
  ],
}
