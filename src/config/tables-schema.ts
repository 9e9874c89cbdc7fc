import { z } from 'zod'
import { durationSchema, sizeSchema } from '../core/units-schema.js'

/** Per-table settings (event time, key, schema policy, landing overrides), used by landing and refine. */
export const tablesSchema = z
  .record(
    z.string().regex(/^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/, 'a key "source.resource"'),
    z.strictObject({
      eventTime: z
        .string()
        .optional()
        .describe('Dotted path of the event time in each record (e.g. "created_at", "data.time").'),
      primaryKey: z
        .union([z.string(), z.array(z.string()).min(1)])
        .optional()
        .describe('Column(s) that identify a record; refine keeps the last copy of each key.'),
      flatten: z
        .boolean()
        .default(true)
        .describe(
          'Flatten structs into parent_child columns in the trusted table (public_metrics.like_count → public_metrics_like_count); lists stay lists.',
        ),
      schema: z
        .enum(['evolve', 'quarantine', 'freeze'])
        .default('evolve')
        .describe(
          'When a batch does not fit the trusted table: evolve widens the column (to text if nothing else fits); quarantine sets rows whose values do not fit aside in _errors/refine; freeze also sets aside rows with new columns. New columns and numeric widenings evolve under evolve and quarantine.',
        ),
      format: z
        .enum(['parquet', 'iceberg'])
        .default('iceberg')
        .describe(
          'iceberg: the trusted tables are Apache Iceberg v2 tables (metadata in <location>/metadata/), every change to their files one atomic commit, so engines that read Iceberg (Athena and Redshift through Glue, Trino, Spark, DuckDB) see exactly the snapshot Weir reads. parquet: Hive-style folders only, which an engine reads whole, replaced files included until refine deletes them.',
        ),
      retention: durationSchema
        .default('1h')
        .describe(
          "Iceberg tables: how long a replaced snapshot stays readable (time travel, queries already running), as the table's history.expire.max-snapshot-age-ms. `weir maintain` (and `weir run`, hourly) then deletes the files no kept snapshot uses.",
        ),
      landing: z
        .strictObject({
          maxRecords: z.number().int().positive().optional().describe('Records per raw file at most.'),
          maxBytes: sizeSchema.optional().describe('Bytes per raw file at most.'),
          maxAge: durationSchema.optional().describe('Longest a record waits before its file is written.'),
          path: z
            .string()
            .optional()
            .describe(
              'This table\'s own folder template, e.g. "Raw/Twitter/JSON/{yyyy}/{mm}/{dd}"; it must not be shared with another table.',
            ),
        })
        .optional()
        .describe("This table's landing limits and folders, over the landing section's."),
    }),
  )
  .default({})
  .describe('Per-table settings, keyed "source.resource".')
