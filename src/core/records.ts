import { createHash } from 'node:crypto'

/** A record as a source emitted it: a resource name (`tweets`, `users`) and the JSON document, untouched. */
export interface SourceRecord {
  readonly resource: string
  readonly data: unknown
}

/** `x.tweets` → the table name used in every zone: `x_tweets`. */
export function tableName(source: string, resource: string): string {
  return `${source}_${resource}`.replace(/[^a-zA-Z0-9_]/g, '_')
}

/** Reads a dotted path (`data.time`) from a parsed JSON record. */
export function getPath(record: unknown, path: string): unknown {
  let cur: unknown = record
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string, unknown>)[part]
  }
  return cur
}

/**
 * A record's structure (keys and value types, not values), hashed: records with the same
 * fingerprint can share a file and a schema version downstream.
 */
export function fingerprinter(): (v: unknown) => string {
  // Keyed by the shape with keys as they come, which needs no sort: records of one source nearly
  // always list their keys in the same order, and sorting every object's keys was most of the cost
  // (measured: a twelfth of ingest). The hash is of the sorted shape, so the order never matters.
  const cache = new Map<string, string>()
  return (v) => {
    const s = shape(v, false)
    let h = cache.get(s)
    if (!h) {
      h = createHash('sha256').update(shape(v, true)).digest('hex').slice(0, 16)
      if (cache.size > 10_000) cache.clear()
      cache.set(s, h)
    }
    return h
  }
}

function shape(v: unknown, sorted: boolean): string {
  switch (typeof v) {
    case 'string':
      return 's'
    case 'number':
      return 'd'
    case 'boolean':
      return 'b'
    case 'object':
      break
    default:
      return 'u'
  }
  if (v === null) return 'n'
  if (Array.isArray(v)) {
    // The union of element shapes, without building a Set per array: arrays are usually uniform.
    let out = ''
    for (const x of v) {
      const e = shape(x, sorted)
      if (out !== e && !`|${out}|`.includes(`|${e}|`)) out = out ? `${out}|${e}` : e
    }
    return `[${out}]`
  }
  let out = '{'
  if (sorted) {
    for (const k of Object.keys(v as object).sort())
      out += `${k}:${shape((v as Record<string, unknown>)[k], true)},`
  } else {
    for (const k in v as object) out += `${k}:${shape((v as Record<string, unknown>)[k], false)},`
  }
  return `${out}}`
}
