import { getTable, type TableEntry } from '../catalog/catalog.js'
import { caughtUp } from '../catalog/iceberg/mirror.js'
import { parse } from '../catalog/types.js'
import { describeColumns, type Engine, sqlIdent } from '../engine/engine.js'
import type { ObjectStore } from '../storage/storage.js'
import { liveFiles } from './files.js'
import { flattenSelect } from './schema.js'

/** One table a batch writes: the trusted table itself, or one of its child tables. */
export interface Output {
  readonly name: string
  readonly location: string
  /** The batch's rows for this table, as a DuckDB relation over the staged temp table. */
  readonly staged: string
  /** Key columns: the table's primary key, or for a child table its parent's key and the position. */
  readonly keys: readonly string[]
  /** For a child table: the parent's key columns (a new parent copy replaces all its children). */
  readonly parentKeys: readonly string[] | undefined
  readonly trusted: TableEntry | undefined
  readonly live: readonly string[]
}

/** The trusted table a batch goes to, as it stands. */
export interface TrustedTarget {
  readonly name: string
  readonly location: string
  readonly keys: readonly string[]
  readonly flatten: boolean
  readonly partitioned: boolean
  readonly trusted: TableEntry | undefined
  readonly live: readonly string[]
}

/**
 * The tables a staged batch writes: the trusted table (its structs flattened into columns), and
 * with a primary key one child table per list of objects, linked by the parent's key and the
 * position in the list.
 */
export async function batchOutputs(
  store: ObjectStore,
  engine: Engine,
  table: string,
  t: TrustedTarget,
): Promise<Output[]> {
  const outputs: Output[] = []
  const stagedRaw = t.partitioned
    ? `(SELECT * FROM ${table} WHERE dt IS NOT NULL)`
    : `(SELECT * EXCLUDE (dt) FROM ${table})`
  const flat = !t.flatten ? undefined : flattenSelect(await describeColumns(engine, stagedRaw))
  const staged = flat ? `(SELECT ${flat} FROM ${stagedRaw})` : stagedRaw
  // Lists of objects become child tables, linked by the parent's key and the position in the list.
  const lists =
    !t.flatten || !t.keys.length
      ? []
      : (await describeColumns(engine, staged)).filter((c) => isListOfStructs(c.type)).map((c) => c.name)
  outputs.push({
    name: t.name,
    location: t.location,
    staged: lists.length ? `(SELECT * EXCLUDE (${lists.map(sqlIdent).join(', ')}) FROM ${staged})` : staged,
    keys: t.keys,
    parentKeys: undefined,
    trusted: t.trusted,
    live: t.live,
  })
  for (const list of lists) {
    const name = `${t.name}__${list}`
    const childLocation = `${t.location.replace(/\/$/, '')}__${list}/`
    const entry = await caughtUp(store, engine, await getTable(store, 'trusted', name))
    const parentKeys = t.keys.map((k) => `parent_${k}`)
    const items = `(SELECT ${t.keys.map((k, i) => `${sqlIdent(k)} AS ${sqlIdent(parentKeys[i]!)}`).join(', ')},${t.partitioned ? ' dt,' : ''}
        UNNEST(range(1, len(${sqlIdent(list)}) + 1)) AS position, UNNEST(${sqlIdent(list)}) AS _weir_item
      FROM ${staged} WHERE ${sqlIdent(list)} IS NOT NULL)`
    const rows = `(SELECT * EXCLUDE (_weir_item), UNNEST(_weir_item) FROM ${items})`
    const childFlat = flattenSelect(await describeColumns(engine, rows))
    outputs.push({
      name,
      location: childLocation,
      staged: childFlat ? `(SELECT ${childFlat} FROM ${rows})` : rows,
      keys: [...parentKeys, 'position'],
      parentKeys,
      trusted: entry,
      live: await liveFiles(store, childLocation, entry),
    })
  }
  return outputs
}

function isListOfStructs(type: string): boolean {
  const t = parse(type)
  return t.kind === 'list' && t.of.kind === 'struct'
}
