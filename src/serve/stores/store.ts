/**
 * The serving-store port: items (JSON objects) by key, with secondary indexes on chosen fields,
 * read by key or by one condition on one index, in index order, page by page. Upserts are
 * idempotent: writing an item again under its key leaves the store as it was.
 */
export type IndexType = 'string' | 'number'

export interface TableSpec {
  readonly name: string
  /** Indexed fields and their types: what the API may filter and sort on. */
  readonly indexes: Readonly<Record<string, IndexType>>
}

export type Item = Readonly<Record<string, unknown>>

export type Condition =
  | { readonly op: 'eq' | 'gt' | 'gte' | 'lt' | 'lte'; readonly value: string | number }
  | { readonly op: 'in'; readonly values: readonly (string | number)[] }
  | { readonly op: 'prefix'; readonly value: string }

export interface Query {
  /** The index to read; without one, every item in key order. */
  readonly index?: string
  readonly where?: Condition
  readonly desc?: boolean
  readonly limit: number
  /** From a previous page: where to go on (opaque to callers). */
  readonly cursor?: string
}

export interface Page {
  readonly items: readonly { readonly key: string; readonly item: Item }[]
  readonly cursor?: string
}

export interface ServingStore {
  readonly kind: string
  ensure(table: TableSpec): Promise<void>
  upsert(table: TableSpec, rows: readonly { readonly key: string; readonly item: Item }[]): Promise<void>
  /** Removes the items of these keys (a key not there is no error). */
  delete(table: TableSpec, keys: readonly string[]): Promise<void>
  get(table: TableSpec, key: string): Promise<Item | undefined>
  query(table: TableSpec, q: Query): Promise<Page>
  count(table: TableSpec): Promise<number>
  /** Whether the store answers (for /readyz). */
  ping(): Promise<void>
  close(): Promise<void>
}

/** The value of an indexed field, as the index keeps it (undefined: not indexed for this item). */
export function indexValue(item: Item, field: string, type: IndexType): string | number | undefined {
  let v: unknown = item
  for (const part of field.split('.'))
    v =
      v !== null && typeof v === 'object' && Object.hasOwn(v, part)
        ? (v as Record<string, unknown>)[part]
        : undefined
  if (v === null || v === undefined) return undefined
  if (type === 'number') {
    const n = typeof v === 'number' ? v : Number(v)
    return Number.isFinite(n) ? n : undefined
  }
  return typeof v === 'string' ? v : JSON.stringify(v)
}

export function encodeCursor(parts: readonly unknown[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url')
}

/** A cursor is only trusted when it has the shape its store gives out; anything else is forged. */
export function decodeCursor(cursor: string, shaped: (parts: unknown[]) => boolean): unknown[] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (Array.isArray(v) && shaped(v)) return v
  } catch {}
  throw new CursorError()
}

export const isScalar = (v: unknown): boolean =>
  v === null ||
  typeof v === 'string' ||
  typeof v === 'boolean' ||
  (typeof v === 'number' && Number.isFinite(v))

export class CursorError extends Error {
  constructor() {
    super('cursor is not one this API gave out')
  }
}
