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
  /**
   * Which type changes the table takes in place (an Iceberg table's promotions); any by default.
   * Under `evolve` the others keep the column's type: a value that fits goes in it, the others
   * in a variant column (`score__varchar`); under `quarantine` they are incompatible.
   */
  inPlace?: (from: string, to: string) => boolean,
  /** Key columns: a value that does not fit one sets its row aside (a variant would lose the key). */
  keys: readonly string[] = [],
): SchemaPlan {
  if (!current?.length) return { columns: [...batch], changes: [], select: undefined, reason: undefined }
  const d: Draft = {
    columns: new Map(current.map((c) => [c.name, c.type])),
    changes: [],
    select: [],
    reasons: [],
    rewrite: false,
  }
  for (const c of batch) {
    const id = sqlIdent(c.name)
    const mine = d.columns.get(c.name)
    if (c.name === 'dt') d.select.push(id)
    else if (mine !== undefined)
      fitColumn(d, c, mine, inPlace && keys.includes(c.name) ? 'quarantine' : policy, inPlace)
    else if (policy === 'freeze') {
      d.reasons.push(
        `WHEN ${id} IS NOT NULL THEN ${sqlString(`column ${c.name} is not in the frozen schema`)}`,
      )
      d.rewrite = true // the column is left out of the table's files
    } else {
      d.columns.set(c.name, c.type)
      d.changes.push(`added ${c.name} ${c.type}`)
      d.select.push(id)
    }
  }
  return {
    columns: [...d.columns].map(([name, type]) => ({ name, type })),
    changes: d.changes,
    select: d.rewrite ? d.select.join(', ') : undefined,
    reason: d.reasons.length ? `CASE ${d.reasons.join(' ')} END` : undefined,
  }
}

/** A plan being made: the table's columns so far, and what the batch's rows need to fit them. */
interface Draft {
  readonly columns: Map<string, string>
  readonly changes: string[]
  readonly select: string[]
  readonly reasons: string[]
  rewrite: boolean
}

/** One batch column the table has: the same type, a widening, a variant column, or rows set aside. */
function fitColumn(
  d: Draft,
  c: Column,
  mine: string,
  policy: SchemaPolicy,
  inPlace: ((from: string, to: string) => boolean) | undefined,
) {
  const id = sqlIdent(c.name)
  const w = widen(parse(mine), parse(c.type))
  const wide = typeText(w.type)
  const fixed = w.how !== 'same' && inPlace !== undefined && !inPlace(mine, wide)
  const keep = policy === 'freeze' || (policy === 'quarantine' && (w.how === 'incompatible' || fixed))
  if (w.how !== 'same' && keep) {
    // The table's type stays: rows whose value does not fit it are set aside, the rest cast.
    const why = sqlString(`column ${c.name}: ${c.type} does not fit ${mine}`)
    d.reasons.push(`WHEN ${id} IS NOT NULL AND NOT ${fitsIn(id, c.type, mine)} THEN ${why}`)
    d.select.push(`TRY_CAST(${id} AS ${mine}) AS ${id}`)
    d.rewrite = true
    return
  }
  if (fixed) {
    const v = variant(c, mine)
    if (!d.columns.has(v.name)) {
      d.columns.set(v.name, v.type)
      d.changes.push(
        `${c.name}: ${c.type} values that do not fit ${mine} (a type this table cannot change to ${wide}) go to new column ${v.name}`,
      )
    }
    d.select.push(...v.select)
    d.rewrite = true
    return
  }
  if (w.how !== 'same') {
    d.columns.set(c.name, wide)
    d.changes.push(
      w.how === 'incompatible'
        ? `${c.name}: ${mine} and ${c.type} do not fit one another; widened to VARCHAR`
        : `${c.name}: ${mine} widened to ${wide}`,
    )
  }
  const target = d.columns.get(c.name)!
  if (target === c.type || parse(target).kind !== 'scalar') d.select.push(id)
  else {
    // Structs and lists become JSON text, not DuckDB's own rendering of them.
    const value = parse(c.type).kind === 'scalar' ? id : `to_json(${id})`
    d.select.push(`CAST(${value} AS ${target}) AS ${id}`)
    d.rewrite = true
  }
}

const NUMBERS =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL)\b/

/**
 * Whether a value of type `from` fits type `to` (false for NULL): it casts, and a number casts
 * back unchanged (2.5 would round to 2 as a BIGINT). Text is not compared back: '2026-11-20T10:00Z'
 * fits a TIMESTAMP though it prints otherwise.
 */
function fitsIn(id: string, from: string, to: string): string {
  const lossless = NUMBERS.test(from) && NUMBERS.test(to)
  return lossless
    ? `coalesce(CAST(TRY_CAST(${id} AS ${to}) AS ${from}) = ${id}, false)`
    : `(TRY_CAST(${id} AS ${to}) IS NOT NULL)`
}

/**
 * The variant column for a batch's values of column `c` that its table's type `mine` cannot hold:
 * `<name>__<type>` of the batch's type (`score__double`), or `<name>__json` (JSON text) for a
 * nested one. A value goes there only when casting it to `mine` and back would change it.
 */
function variant(c: Column, mine: string) {
  const id = sqlIdent(c.name)
  const nested = parse(c.type).kind !== 'scalar'
  const suffix = nested
    ? 'json'
    : c.type
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '_')
        .replace(/^_|_$/g, '')
  const name = `${c.name}__${suffix}`
  const type = nested ? 'VARCHAR' : c.type
  const fits = fitsIn(id, c.type, mine)
  const value = nested ? `CAST(to_json(${id}) AS VARCHAR)` : id
  return {
    name,
    type,
    select: [
      `CASE WHEN ${fits} THEN TRY_CAST(${id} AS ${mine}) END AS ${id}`,
      `CASE WHEN NOT ${fits} THEN ${value} END AS ${sqlIdent(name)}`,
    ],
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
