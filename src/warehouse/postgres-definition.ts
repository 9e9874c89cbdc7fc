import { z } from 'zod'
import { defineAdapter } from '../core/adapter.js'
import { postgresUrlSchema } from '../core/units-schema.js'
import type { Warehouse, WarehouseContext } from './warehouse.js'

const schema = z
  .strictObject({
    url: postgresUrlSchema
      .optional()
      .describe(
        'postgres:// URL, e.g. "${DATABASE_URL}"; without it, the PG* variables (PGHOST, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE).',
      ),
    schema: z.string().default('refined').describe('The schema the refined tables go to.'),
    select: z.array(z.string()).optional().describe('Only these models (default: every refined table).'),
  })
  .describe(
    'Load the refined tables into PostgreSQL after each models run (weir run), or with weir load postgres.',
  )

/** PostgreSQL: COPY into typed, keyed tables; `pg` loads only when a load runs. */
export const postgresWarehouse = defineAdapter({
  kind: 'postgres',
  schema,
  create(cfg: z.output<typeof schema>, ctx: WarehouseContext): Warehouse {
    return {
      async load(options = {}) {
        const { loadPostgres } = await import('./postgres.js')
        const select = options.select ?? cfg.select
        return loadPostgres(ctx.store, ctx.engine, ctx.state, {
          schema: cfg.schema,
          stagingDir: ctx.stagingDir,
          ...(cfg.url ? { url: cfg.url } : {}),
          ...(select ? { select } : {}),
          ...(options.fullRefresh ? { fullRefresh: true } : {}),
          ...(ctx.progress ? { progress: ctx.progress } : {}),
        })
      },
    }
  },
})
