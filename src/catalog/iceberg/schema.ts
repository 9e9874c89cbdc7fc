import { WeirError } from '../../core/errors.js'
import type { Column } from '../catalog.js'
import { parse, type Type } from '../types.js'

/** An Iceberg type as the spec serialises it in table metadata (Appendix C). */
export type IcebergType =
  | string
  | { readonly type: 'struct'; readonly fields: readonly IcebergField[] }
  | {
      readonly type: 'list'
      readonly 'element-id': number
      readonly element: IcebergType
      readonly 'element-required': boolean
    }
  | {
      readonly type: 'map'
      readonly 'key-id': number
      readonly key: IcebergType
      readonly 'value-id': number
      readonly value: IcebergType
      readonly 'value-required': boolean
    }

export interface IcebergField {
  readonly id: number
  readonly name: string
  readonly required: boolean
  readonly type: IcebergType
}

export interface IcebergSchema {
  readonly type: 'struct'
  readonly 'schema-id': number
  readonly fields: readonly IcebergField[]
}

const SCALARS: Readonly<Record<string, string>> = {
  BOOLEAN: 'boolean',
  TINYINT: 'int',
  SMALLINT: 'int',
  INTEGER: 'int',
  UTINYINT: 'int',
  USMALLINT: 'int',
  BIGINT: 'long',
  UINTEGER: 'long',
  FLOAT: 'float',
  DOUBLE: 'double',
  VARCHAR: 'string',
  JSON: 'string',
  BLOB: 'binary',
  UUID: 'uuid',
  DATE: 'date',
  TIME: 'time',
  TIMESTAMP: 'timestamp',
  'TIMESTAMP WITH TIME ZONE': 'timestamptz',
  HUGEINT: 'decimal(38, 0)',
  UBIGINT: 'decimal(20, 0)',
}

/**
 * A table's columns as an Iceberg schema. A column (or nested field) keeps the id it had in
 * `previous`, found by its path of names, so files written before read by id as they were; a new
 * one takes the next id after `lastColumnId`. Every field is optional: a batch may lack any.
 */
export function icebergSchema(
  columns: readonly Column[],
  schemaId: number,
  previous: IcebergSchema | undefined,
  lastColumnId: number,
): { schema: IcebergSchema; lastColumnId: number } {
  const known = new Map<string, number>()
  const remember = (path: string, t: IcebergType) => {
    if (typeof t === 'string') return
    if (t.type === 'struct') for (const f of t.fields) rememberField(`${path}.${f.name}`, f)
    else if (t.type === 'list') {
      known.set(`${path}[]`, t['element-id'])
      remember(`${path}[]`, t.element)
    } else {
      known.set(`${path}{k}`, t['key-id'])
      known.set(`${path}{v}`, t['value-id'])
      remember(`${path}{k}`, t.key)
      remember(`${path}{v}`, t.value)
    }
  }
  const rememberField = (path: string, f: IcebergField) => {
    known.set(path, f.id)
    remember(path, f.type)
  }
  for (const f of previous?.fields ?? []) rememberField(f.name, f)
  let last = lastColumnId
  const idOf = (path: string) => known.get(path) ?? ++last

  const convert = (t: Type, path: string): IcebergType => {
    switch (t.kind) {
      case 'scalar': {
        if (t.name === 'DECIMAL') return `decimal(${t.args[0] ?? 18}, ${t.args[1] ?? 3})`
        const s = SCALARS[t.name]
        if (!s) {
          throw new WeirError(`column ${path}: DuckDB type ${t.name} has no Iceberg type`, {
            code: 'ICEBERG_TYPE',
            stage: 'refine',
          })
        }
        return s
      }
      case 'list': {
        const id = idOf(`${path}[]`)
        return {
          type: 'list',
          'element-id': id,
          element: convert(t.of, `${path}[]`),
          'element-required': false,
        }
      }
      case 'map': {
        const keyId = idOf(`${path}{k}`)
        const valueId = idOf(`${path}{v}`)
        return {
          type: 'map',
          'key-id': keyId,
          key: convert(t.key, `${path}{k}`),
          'value-id': valueId,
          value: convert(t.value, `${path}{v}`),
          'value-required': false,
        }
      }
      case 'struct':
        return {
          type: 'struct',
          fields: t.fields.map(([name, ft]) => field(name, ft, `${path}.${name}`)),
        }
    }
  }
  const field = (name: string, t: Type, path: string): IcebergField => {
    const id = idOf(path)
    return { id, name, required: false, type: convert(t, path) }
  }
  const fields = columns.map((c) => field(c.name, parse(c.type), c.name))
  return { schema: { type: 'struct', 'schema-id': schemaId, fields }, lastColumnId: last }
}

/**
 * DuckDB's `FIELD_IDS` option for COPY … TO parquet, so each Parquet column carries its Iceberg
 * field id: `{id: 1, s: {__duckdb_field_id: 2, a: 3}, l: {__duckdb_field_id: 4, element: 5}}`.
 */
export function fieldIdsOption(schema: IcebergSchema): string {
  const name = (n: string) => `"${n.replaceAll('"', '""')}"`
  const nested = (t: IcebergType): string[] => {
    if (typeof t === 'string') return []
    if (t.type === 'struct') return t.fields.map(entry)
    if (t.type === 'list') return [`element: ${idWith(t['element-id'], t.element)}`]
    return [`key: ${idWith(t['key-id'], t.key)}`, `value: ${idWith(t['value-id'], t.value)}`]
  }
  const idWith = (id: number, t: IcebergType) => {
    const inner = nested(t)
    return inner.length ? `{__duckdb_field_id: ${id}, ${inner.join(', ')}}` : String(id)
  }
  const entry = (f: IcebergField) => `${name(f.name)}: ${idWith(f.id, f.type)}`
  return `{${schema.fields.map(entry).join(', ')}}`
}
