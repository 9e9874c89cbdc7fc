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
  const { known, scalars } = idsByPath(previous)
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
    let id = idOf(path)
    const type = convert(t, path)
    // A type Iceberg cannot promote to (a model rebuilt with a column of another type) is another
    // column of the same name: files written before keep reading the old one by its id.
    const before = scalars.get(path)
    if (typeof type === 'string' && before !== undefined && !widens(before, type)) id = ++last
    return { id, name, required: false, type }
  }
  const fields = columns.map((c) => field(c.name, parse(c.type), c.name))
  return { schema: { type: 'struct', 'schema-id': schemaId, fields }, lastColumnId: last }
}

/** The ids of a schema's fields (and of lists' elements, maps' keys and values) by path of names, and its scalar fields' types. */
function idsByPath(previous: IcebergSchema | undefined) {
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
  const scalars = new Map<string, string>()
  const rememberField = (path: string, f: IcebergField) => {
    known.set(path, f.id)
    if (typeof f.type === 'string') scalars.set(path, f.type)
    remember(path, f.type)
  }
  for (const f of previous?.fields ?? []) rememberField(f.name, f)
  return { known, scalars }
}

/**
 * DuckDB's `FIELD_IDS` option for COPY … TO parquet, so each Parquet column carries its Iceberg
 * field id: `{id: 1, s: {__duckdb_field_id: 2, a: 3}, l: {__duckdb_field_id: 4, element: 5}}`.
 * Only the columns the file has (`columns`, as DuckDB describes the rows written; all of the
 * schema's if omitted), matched to the schema by name: DuckDB refuses an id for a column it does
 * not write (a Hive-style table's partition column is only in its folder names).
 */
export function fieldIdsOption(schema: IcebergSchema, columns?: readonly Column[]): string {
  const name = (n: string) => `"${n.replaceAll('"', '""')}"`
  const byName = (fields: readonly IcebergField[], t: Type | undefined) =>
    t?.kind === 'struct'
      ? t.fields.flatMap(([n, ft]) => {
          const f = fields.find((x) => x.name === n)
          return f ? [`${name(n)}: ${idWith(f.id, f.type, ft)}`] : []
        })
      : fields.map((f) => `${name(f.name)}: ${idWith(f.id, f.type, undefined)}`)
  const nested = (it: IcebergType, t: Type | undefined): string[] => {
    if (typeof it === 'string') return []
    if (it.type === 'struct') return byName(it.fields, t)
    if (it.type === 'list')
      return [`element: ${idWith(it['element-id'], it.element, t?.kind === 'list' ? t.of : undefined)}`]
    const m = t?.kind === 'map' ? t : undefined
    return [
      `key: ${idWith(it['key-id'], it.key, m?.key)}`,
      `value: ${idWith(it['value-id'], it.value, m?.value)}`,
    ]
  }
  const idWith = (id: number, it: IcebergType, t: Type | undefined) => {
    const inner = nested(it, t)
    return inner.length ? `{__duckdb_field_id: ${id}, ${inner.join(', ')}}` : String(id)
  }
  const top: Type | undefined = columns && {
    kind: 'struct',
    fields: columns.map((c) => [c.name, parse(c.type)] as const),
  }
  return `{${byName(schema.fields, top).join(', ')}}`
}

/** Whether an Iceberg scalar type may become another in place: the same, int → long, float → double, a wider decimal. */
function widens(from: string, to: string): boolean {
  if (from === to || (from === 'int' && to === 'long') || (from === 'float' && to === 'double')) return true
  const [a, b] = [/^decimal\((\d+), (\d+)\)$/.exec(from), /^decimal\((\d+), (\d+)\)$/.exec(to)]
  return !!a && !!b && a[2] === b[2] && Number(b[1]) >= Number(a[1])
}

/**
 * Whether Iceberg lets a column of DuckDB type `from` become `to` in place, its field id kept:
 * int → long, float → double, a decimal's precision raised (same scale), a struct gaining fields,
 * and those inside lists, maps and structs. Anything else would make files written before unreadable.
 */
export function promotes(from: string, to: string): boolean {
  const scalar = (t: Type & { kind: 'scalar' }) =>
    t.name === 'DECIMAL' ? `decimal(${t.args[0] ?? 18}, ${t.args[1] ?? 3})` : (SCALARS[t.name] ?? t.name)
  const ok = (a: Type, b: Type): boolean => {
    if (a.kind === 'scalar' && b.kind === 'scalar') {
      return widens(scalar(a), scalar(b))
    }
    if (a.kind === 'list' && b.kind === 'list') return ok(a.of, b.of)
    if (a.kind === 'map' && b.kind === 'map') return ok(a.key, b.key) && ok(a.value, b.value)
    if (a.kind === 'struct' && b.kind === 'struct')
      return a.fields.every(([n, t]) => {
        const other = b.fields.find(([m]) => m === n)
        return other !== undefined && ok(t, other[1])
      })
    return false
  }
  return ok(parse(from), parse(to))
}
