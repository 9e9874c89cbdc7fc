import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { z } from 'zod'
import { defineAdapter } from '../../core/adapter.js'
import { openDuckDb } from '../../engine/duckdb.js'
import type { JsonValue } from '../../engine/engine.js'
import { createSqlStore, type SqlRunner } from './sql-store.js'
import type { ServingStore } from './store.js'

const schema = z.strictObject({
  kind: z
    .literal('embedded')
    .describe('A DuckDB file in the lake folder (_serving/serving.duckdb): no server.'),
  path: z
    .string()
    .optional()
    .describe('Where the file goes (default: inside a local lake; required for a remote one).'),
})

/** A DuckDB file of the serving process's own: no server. */
export const embeddedServingStore = defineAdapter({
  kind: 'embedded',
  schema,
  async create(cfg: z.output<typeof schema>, _ctx: undefined): Promise<ServingStore> {
    if (!cfg.path) throw new Error('the embedded serving store needs the path of its file')
    // The file is this process's alone, so lookups can be served from memory (writes update it).
    return createSqlStore('embedded', await duckdbRunner(cfg.path), 'weir_serve_', 100_000)
  },
})

/** A DuckDB database file of its own (not the lake engine's), statements one at a time. */
async function duckdbRunner(path: string): Promise<SqlRunner> {
  await mkdir(dirname(path), { recursive: true })
  const { instance } = await openDuckDb(path)
  const conn = await instance.connect()
  let queue: Promise<unknown> = Promise.resolve()
  // Lookups repeat the same few statements: prepared once, they skip DuckDB's parser and planner.
  const prepared = new Map<string, Awaited<ReturnType<typeof conn.prepare>>>()
  return {
    exec(sql, params = []) {
      const run = queue.then(async () => {
        let stmt = prepared.get(sql)
        if (!stmt) {
          stmt = await conn.prepare(sql)
          if (prepared.size < 256) prepared.set(sql, stmt)
        }
        stmt.bind(params as never)
        const reader = await stmt.runAndReadAll()
        return reader.getRowObjectsJson() as Record<string, JsonValue>[]
      })
      queue = run.catch(() => undefined)
      return run
    },
    async close() {
      await queue
      conn.closeSync()
      instance.closeSync()
    },
  }
}
