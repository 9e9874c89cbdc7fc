import { keyLoader } from './key-loader.js'
import {
  type Condition,
  decodeCursor,
  encodeCursor,
  type Item,
  indexValue,
  isScalar,
  type Page,
  type ServingStore,
  type TableSpec,
} from './store.js'

/** A SQL database as the runner of a serving store: parameterised statements only, $1-style. */
export interface SqlRunner {
  exec(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>
  close(): Promise<void>
}

/**
 * The serving store on a SQL database (DuckDB for the embedded store, PostgreSQL): a table per
 * served table with the key, the item as JSON text and a column per index. Every value travels as
 * a parameter; identifiers come from the config, checked, never from a request.
 */
export function createSqlStore(
  kind: string,
  db: SqlRunner,
  prefix = 'weir_serve_',
  /** Items kept in memory for lookups by key: only for a store this process alone writes (embedded). */
  cacheSize = 0,
): ServingStore {
  const table = (t: TableSpec) => ident(`${prefix}${t.name}`)
  // Least recently used first (a Map keeps insertion order); writes go through it, so it is never stale.
  const cache = new Map<string, Item | null>()
  const remember = (id: string, item: Item | null) => {
    if (!cacheSize) return
    cache.delete(id)
    cache.set(id, item)
    if (cache.size > cacheSize) cache.delete(cache.keys().next().value!)
  }
  const col = (field: string) => ident(`ix_${field.replace(/\./g, '__')}`)
  const loaders = new Map<string, (key: string) => Promise<Item | undefined>>()
  /** A table's lookups by key, gathered into one statement while another is in flight. */
  const loader = (t: TableSpec) => {
    let load = loaders.get(t.name)
    if (!load) {
      load = keyLoader(async (keys) => {
        const rows = await db.exec(
          `SELECT k, item FROM ${table(t)} WHERE k IN (${keys.map((_, i) => `$${i + 1}`).join(', ')})`,
          keys,
        )
        const found = new Map(rows.map((r) => [String(r.k), JSON.parse(String(r.item)) as Item]))
        // Remembered here, in the statement's turn: a write queued after it lands later, and wins.
        for (const k of keys) remember(`${t.name}\u0000${k}`, found.get(k) ?? null)
        return found
      })
      loaders.set(t.name, load)
    }
    return load
  }
  const ready = new Set<string>()
  return {
    kind,
    async ensure(t) {
      if (ready.has(t.name)) return
      const cols = Object.entries(t.indexes).map(
        ([f, type]) => `${col(f)} ${type === 'number' ? 'DOUBLE PRECISION' : 'TEXT'}`,
      )
      await db.exec(
        `CREATE TABLE IF NOT EXISTS ${table(t)} (k TEXT PRIMARY KEY, item TEXT NOT NULL${cols.map((c) => `, ${c}`).join('')})`,
      )
      for (const f of Object.keys(t.indexes)) {
        await db.exec(
          `CREATE INDEX IF NOT EXISTS ${ident(`${prefix}${t.name}_${f.replace(/\./g, '__')}_ix`)} ON ${table(t)} (${col(f)}, k)`,
        )
      }
      ready.add(t.name)
    },
    async upsert(t, input) {
      const fields = Object.keys(t.indexes)
      const names = ['k', 'item', ...fields.map(col)]
      // One row per key in a statement (the last copy wins), as a redelivery inside a batch needs.
      const rows = [...new Map(input.map((r) => [r.key, r])).values()]
      for (let i = 0; i < rows.length; i += 200) {
        const chunk = rows.slice(i, i + 200)
        const params: unknown[] = []
        const tuples = chunk.map((r) => {
          const vals = [
            r.key,
            JSON.stringify(r.item),
            ...fields.map((f) => indexValue(r.item, f, t.indexes[f]!) ?? null),
          ]
          return `(${vals.map((v) => `$${params.push(v)}`).join(', ')})`
        })
        await db.exec(
          `INSERT INTO ${table(t)} (${names.join(', ')}) VALUES ${tuples.join(', ')}
           ON CONFLICT (k) DO UPDATE SET ${names
             .slice(1)
             .map((n) => `${n} = excluded.${n}`)
             .join(', ')}`,
          params,
        )
        for (const r of chunk)
          if (cache.has(`${t.name}\u0000${r.key}`)) remember(`${t.name}\u0000${r.key}`, r.item)
      }
    },
    async delete(t, keys) {
      for (let i = 0; i < keys.length; i += 200) {
        const chunk = keys.slice(i, i + 200)
        await db.exec(
          `DELETE FROM ${table(t)} WHERE k IN (${chunk.map((_, j) => `$${j + 1}`).join(', ')})`,
          chunk,
        )
        for (const k of chunk) if (cache.has(`${t.name}\u0000${k}`)) remember(`${t.name}\u0000${k}`, null)
      }
    },
    async get(t, key) {
      const id = `${t.name}\u0000${key}`
      const hit = cache.get(id)
      if (hit !== undefined) {
        remember(id, hit)
        return hit ?? undefined
      }
      return loader(t)(key)
    },
    async count(t) {
      const rows = await db.exec(`SELECT count(*) AS n FROM ${table(t)}`)
      return Number(rows[0]?.n ?? 0)
    },
    async query(t, q) {
      const params: unknown[] = []
      const p = (v: unknown) => `$${params.push(v)}`
      const by = q.index ? col(q.index) : 'k'
      const where: string[] = []
      if (q.index) where.push(`${by} IS NOT NULL`)
      if (q.where && q.index) where.push(condition(by, q.where, p))
      // Keyset pagination on (index value, key): stable while items change, and cheap.
      if (q.cursor) {
        const [v, k] = decodeCursor(
          q.cursor,
          (c) => c.length === 2 && isScalar(c[0]) && typeof c[1] === 'string',
        )
        const cmp = q.desc ? '<' : '>'
        where.push(
          q.index ? `(${by} ${cmp} ${p(v)} OR (${by} = ${p(v)} AND k ${cmp} ${p(k)}))` : `k ${cmp} ${p(k)}`,
        )
      }
      const dir = q.desc ? 'DESC' : 'ASC'
      const rows = await db.exec(
        `SELECT k, item${q.index ? `, ${by} AS v` : ''} FROM ${table(t)} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY ${q.index ? `${by} ${dir}, ` : ''}k ${dir} LIMIT ${p(q.limit + 1)}`,
        params,
      )
      const page = rows.slice(0, q.limit)
      const last = page.at(-1)
      return {
        items: page.map((r) => ({ key: String(r.k), item: JSON.parse(String(r.item)) as Item })),
        ...(rows.length > q.limit && last
          ? { cursor: encodeCursor([q.index ? last.v : null, String(last.k)]) }
          : {}),
      } satisfies Page
    },
    async ping() {
      await db.exec('SELECT 1')
    },
    close: () => db.close(),
  }
}

function condition(column: string, c: Condition, p: (v: unknown) => string): string {
  switch (c.op) {
    case 'in':
      return `${column} IN (${c.values.map(p).join(', ')})`
    case 'prefix':
      // A range, not LIKE: no wildcard in the value can widen it.
      return `(${column} >= ${p(c.value)} AND ${column} < ${p(`${c.value}\u{10ffff}`)})`
    default:
      return `${column} ${{ eq: '=', gt: '>', gte: '>=', lt: '<', lte: '<=' }[c.op]} ${p(c.value)}`
  }
}

function ident(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not a plain identifier: ${name}`)
  return `"${name}"`
}
