import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { WeirError } from '../../core/errors.js'
import { maskUri } from '../../core/redact.js'
import type { JsonValue } from '../../engine/engine.js'
import { createSqlStore, type SqlRunner } from './sql-store.js'
import type { ServingStore } from './store.js'

export type ServingStoreConfig =
  | { readonly kind: 'embedded'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly prefix: string }
  | {
      readonly kind: 'dynamodb'
      readonly prefix: string
      readonly region?: string | undefined
      readonly endpoint?: string | undefined
    }

/** Opens the configured serving store; heavy clients load here, not at start-up. */
export async function openServingStore(cfg: ServingStoreConfig): Promise<ServingStore> {
  switch (cfg.kind) {
    case 'embedded':
      // The file is this process's alone, so lookups can be served from memory (writes update it).
      return createSqlStore('embedded', await duckdbRunner(cfg.path), 'weir_serve_', 100_000)
    case 'postgres':
      return createSqlStore('postgres', await pgRunner(cfg.url), cfg.prefix)
    case 'dynamodb': {
      const { createDynamoStore } = await import('./dynamo-store.js')
      return createDynamoStore(cfg)
    }
  }
}

/** A DuckDB database file of its own (not the lake engine's), statements one at a time. */
async function duckdbRunner(path: string): Promise<SqlRunner> {
  const duckdb = await import('@duckdb/node-api')
  await mkdir(dirname(path), { recursive: true })
  const instance = await duckdb.DuckDBInstance.create(path, { autoinstall_known_extensions: 'false' })
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

async function pgRunner(url: string): Promise<SqlRunner> {
  const { default: pg } = await import('pg')
  const pool = new pg.Pool({ connectionString: url, max: 8, connectionTimeoutMillis: 10_000 })
  // An idle client whose server went away must not take the process with it; the next query says so.
  pool.on('error', () => undefined)
  // Asked once at start, so a wrong URL or a server that is down stops `weir serve` in one line.
  await pool.query('SELECT 1').catch(async (err: unknown) => {
    await pool.end().catch(() => undefined)
    const e = err as { code?: string; message?: string }
    const why =
      e.code === 'ECONNREFUSED'
        ? 'connection refused'
        : e.code === 'ENOTFOUND'
          ? 'host not found'
          : (e.message ?? String(err)).split('\n')[0]
    throw new WeirError(`serving store ${maskUri(url)}: cannot connect (${why})`, {
      code: 'SERVE_STORE_UNREACHABLE',
      stage: 'serve',
      retryable: true,
      cause: err,
    })
  })
  return {
    async exec(sql, params = []) {
      const r = await pool.query(sql, params as unknown[])
      return r.rows as Record<string, unknown>[]
    },
    close: () => pool.end(),
  }
}
