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
