import { z } from 'zod'
import { postgresUrlSchema } from '../core/units-schema.js'

/** Where the refined tables are loaded for analysts and BI tools. */
export const warehouseSchema = z
  .strictObject({
    postgres: z
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
      ),
  })
  .optional()
  .describe('Where the refined star schema is loaded for analysts and BI tools.')
