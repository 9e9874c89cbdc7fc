import { getPath } from '../../core/records.js'

/** The records a selector picks from a body: `$` is the body itself; an array gives many, an object one. */
export function selectRecords(body: unknown, path: string): unknown[] {
  const v = path === '$' || path === '' ? body : getPath(body, path)
  if (v === undefined || v === null) return []
  return Array.isArray(v) ? v : [v]
}

/** Compares cursor values of a type; numbers are compared as BigInt so 19-digit ids stay exact. */
export function maxCursor(type: 'number' | 'string' | 'time', a: string | undefined, b: string | undefined) {
  if (a === undefined) return b
  if (b === undefined) return a
  if (type === 'number') return BigInt(a) >= BigInt(b) ? a : b
  if (type === 'time') return Date.parse(a) >= Date.parse(b) ? a : b
  return a >= b ? a : b
}

/** A cursor value read from a record, as text; undefined when the record has none usable. */
export function cursorOf(
  record: unknown,
  path: string,
  type: 'number' | 'string' | 'time',
): string | undefined {
  const v = getPath(record, path)
  if (v === undefined || v === null) return undefined
  const s = String(v)
  if (type === 'number' && !/^-?\d+$/.test(s)) return undefined
  if (type === 'time' && Number.isNaN(Date.parse(s))) return undefined
  return s
}
