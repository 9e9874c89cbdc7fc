import { z } from 'zod'
import { defineAdapter } from '../../core/adapter.js'
import { WeirError } from '../../core/errors.js'
import { maskUri } from '../../core/redact.js'
import { postgresUrlSchema } from '../../core/units-schema.js'
import { createSqlStore, type SqlRunner } from './sql-store.js'
import type { ServingStore } from './store.js'

const schema = z.strictObject({
  kind: z.literal('postgres').describe('PostgreSQL.'),
  url: postgresUrlSchema.describe('Connection URL, e.g. "${DATABASE_URL}".'),
  prefix: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .default('weir_serve_')
    .describe('Prefix of the table names.'),
})

/** PostgreSQL tables (`pg` loads only here). */
export const postgresServingStore = defineAdapter({
  kind: 'postgres',
  schema,
  async create(cfg: z.output<typeof schema>, _ctx: undefined): Promise<ServingStore> {
    return createSqlStore('postgres', await pgRunner(cfg.url), cfg.prefix)
  },
})

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
