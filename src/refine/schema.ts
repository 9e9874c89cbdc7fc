import type { Column } from '../catalog/catalog.js'
import { parse, type Type, typeText, widen } from '../catalog/types.js'
import { sqlIdent, sqlString } from '../engine/engine.js'

/**
 * What a table does when a batch's types do not fit its own:
 * `evolve` widens the column (to text when nothing else fits), `quarantine` keeps the column's type
 * and sets the rows that do not fit aside, `freeze` also refuses new columns (their rows set aside).
 * Compatible changes (a new column, int → bigint → double, a struct gaining a field) evolve the
 * table under `evolve` and `quarantine`.
 */
export type SchemaPolicy = 'evolve' | 'freeze' | 'quarantine'

/** One version of a table's schema, kept in the catalog with the raw file that brought it. */
export interface SchemaVersion {
  readonly version: number
  readonly columns: readonly Column[]
  readonly firstFile: string
  readonly at: string
  readonly changes: readonly string[]
}

export interface SchemaPlan {
  /** The table's columns once this batch is in. */
  readonly columns: Column[]
  /** What changed, in words, for the catalog's history and the run's warnings. */
  readonly changes: string[]
  /** A SELECT list that casts the batch to the table's types; undefined when it already fits. */
  readonly select: string | undefined
  /** A SQL expression giving why a row is set aside (NULL when it fits); undefined when none is. */
  readonly reason: string | undefined
}

/**
 * Compares a batch's columns (as DuckDB inferred them from the JSON) with the table's, and says how
 * the table's schema moves and how the batch must be cast or filtered to fit it.
 */
export function planSchema(
  current: readonly Column[] | undefined,
  batch: readonly Column[],
  policy: SchemaPolicy,
): SchemaPlan {
  if (!current?.length) return { columns: [...batch], changes: [], select: undefined, reason: undefined }
  const columns = new Map(current.map((c) => [c.name, c.type]))
  const changes: string[] = []
  const select: string[] = []
  const reasons: string[] = []
  let rewrite = false
  for (const c of batch) {
    const id = sqlIdent(c.name)
    const mine = columns.get(c.name)
    if (c.name === 'dt') {
      select.push(id)
      continue
    }
    if (mine === undefined) {
      if (policy === 'freeze') {
        reasons.push(
          `WHEN ${id} IS NOT NULL THEN ${sqlString(`column ${c.name} is not in the frozen schema`)}`,
        )
        rewrite = true // the column is left out of the table's files
        continue
      }
      columns.set(c.name, c.type)
      changes.push(`added ${c.name} ${c.type}`)
      select.push(id)
      continue
    }
    const w = widen(parse(mine), parse(c.type))
    const wide = typeText(w.type)
    const keep = policy === 'freeze' || (policy === 'quarantine' && w.how === 'incompatible')
    if (w.how !== 'same' && keep) {
      // The table's type stays: rows whose value does not fit it are set aside, the rest cast.
      reasons.push(
        `WHEN ${id} IS NOT NULL AND TRY_CAST(${id} AS ${mine}) IS NULL THEN ${sqlString(`column ${c.name}: ${c.type} does not fit ${mine}`)}`,
      )
      select.push(`TRY_CAST(${id} AS ${mine}) AS ${id}`)
      rewrite = true
      continue
    }
    if (w.how !== 'same') {
      columns.set(c.name, wide)
      changes.push(
        w.how === 'incompatible'
          ? `${c.name}: ${mine} and ${c.type} do not fit one another; widened to VARCHAR`
          : `${c.name}: ${mine} widened to ${wide}`,
      )
    }
    const target = columns.get(c.name)!
    if (target === c.type || parse(target).kind !== 'scalar') select.push(id)
    else {
      // Structs and lists become JSON text, not DuckDB's own rendering of them.
      const value = parse(c.type).kind === 'scalar' ? id : `to_json(${id})`
      select.push(`CAST(${value} AS ${target}) AS ${id}`)
      rewrite = true
    }
  }
  return {
    columns: [...columns].map(([name, type]) => ({ name, type })),
    changes,
    select: rewrite ? select.join(', ') : undefined,
    reason: reasons.length ? `CASE ${reasons.join(' ')} END` : undefined,
  }
}

/**
 * A SELECT list that flattens struct columns into `parent_child` columns
 * (`public_metrics.like_count` → `public_metrics_like_count`), as Athena and BI tools want them;
 * lists and maps stay as they are. Undefined when there is no struct. A struct whose flat names
 * would collide with other columns is kept whole.
 */
export function flattenSelect(columns: readonly Column[]): string | undefined {
  const taken = new Set(columns.map((c) => c.name))
  const out: string[] = []
  let any = false
  for (const c of columns) {
    const t = parse(c.type)
    if (t.kind !== 'struct') {
      out.push(sqlIdent(c.name))
      continue
    }
    const leaves: [string, string][] = []
    const walk = (type: Type, expr: string, name: string) => {
      if (type.kind === 'struct' && type.fields.length) {
        for (const [f, ft] of type.fields) walk(ft, `${expr}.${sqlIdent(f)}`, `${name}_${f}`)
      } else leaves.push([expr, name])
    }
    walk(t, sqlIdent(c.name), c.name)
    if (leaves.some(([, n]) => taken.has(n))) {
      out.push(sqlIdent(c.name))
      continue
    }
    for (const [expr, n] of leaves) {
      taken.add(n)
      out.push(`${expr} AS ${sqlIdent(n)}`)
    }
    any = true
  }
  return any ? out.join(', ') : undefined
}
