import { z } from 'zod'
import { alertsSchema } from '../alerts/alerts-schema.js'
import { catalogSchema } from '../catalog/catalog-schema.js'
import { tableLocation } from '../core/paths.js'
import { sizeSchema } from '../core/units-schema.js'
import { landingSchema } from '../landing/landing-schema.js'
import { modelsSchema } from '../models/models-schema.js'
import { runSchema } from '../scheduler/run-schema.js'
import { serveSchema } from '../serve/serve-schema.js'
import { type SourceConfig, sourceSchema } from '../sources/registry.js'
import { storageSchema } from '../storage/registry.js'
import { streamSchema } from '../stream/registry.js'
import { warehouseSchema } from '../warehouse/registry.js'
import { checkReferences } from './references.js'
import { tablesSchema } from './tables-schema.js'

const name = z
  .string()
  .regex(/^[a-z][a-z0-9_]*$/, 'a lower-case name of letters, digits and _ (it becomes part of table names)')

export const configSchema = z
  .strictObject({
    lake: z
      .string()
      .min(1)
      .default('./lake')
      .describe('Where the lake lives: a directory, or s3://bucket/prefix. Example: "./lake".'),
    storage: storageSchema,
    stream: streamSchema,
    engine: z
      .strictObject({
        threads: z
          .number()
          .int()
          .positive()
          .optional()
          .describe('DuckDB worker threads; all cores by default.'),
        memoryLimit: z
          .string()
          .optional()
          .describe(
            'DuckDB memory limit, e.g. "2GB"; beyond it DuckDB spills to its temp folder: slower, but memory stays bounded (with a limit, DuckDB\'s allocator also returns freed memory at once). Default: 80% of RAM. Part of DuckDB\'s memory is outside it (reading JSON, writing Parquet): refining 1 GB of tweets with "1GB" and refineBatch "96MB" peaks at about 390 MB of RSS and takes about twice as long as with the defaults (about 1.2 GB); giving memory back at once slows every query of the process too (the models benchmark by about 45%), which is why it is not the default. Too low a limit fails a statement with "Out of Memory": raise it, or lower threads or refineBatch.',
          ),
        refineBatch: sizeSchema
          .default('256MB')
          .describe(
            'Raw bytes one refine batch reads at most (whole files; at least one). Smaller batches need less memory; larger ones rewrite the partitions they touch less often.',
          ),
      })
      .prefault({})
      .describe('The embedded SQL engine (DuckDB) used by refine and query.'),
    sources: z.record(name, sourceSchema).default({}).describe('Where data comes from, by source name.'),
    landing: landingSchema,
    tables: tablesSchema,
    catalog: catalogSchema,
    models: modelsSchema,
    warehouse: warehouseSchema,
    alerts: alertsSchema,
    serve: serveSchema,
    run: runSchema,
  })
  .superRefine((c, ctx) => {
    checkReferences(c, ctx)
    if (c.catalog.glue && !c.catalog.glue.location && !c.lake.startsWith('s3://'))
      ctx.addIssue({
        code: 'custom',
        path: ['catalog', 'glue', 'location'],
        message: `Glue tables point at S3 and the lake ${c.lake} is not in S3: set it to s3://bucket/prefix, where the lake's files are`,
      })
    // Raw file names come from stream offsets, which two tables can share: their folders must differ.
    const seen: [string, string][] = []
    for (const [key, t] of Object.entries(c.tables)) {
      const [source = '', resource = ''] = key.split('.')
      const loc = tableLocation(t.landing?.path ?? c.landing.path, { source, resource, format: 'json' })
      const clash = seen.find(([, other]) => other.startsWith(loc) || loc.startsWith(other))
      if (clash) {
        ctx.addIssue({
          code: 'custom',
          path: ['tables', key, 'landing', 'path'],
          message: `its raw folder ${loc} overlaps ${clash[0]}'s (${clash[1]}); give each table its own folder`,
        })
      }
      seen.push([key, loc])
    }
  })

/** A config as written by a user (defaults optional). */
export type WeirConfigInput = z.input<typeof configSchema>
/** A validated config with every default filled in. */
export type WeirConfig = z.output<typeof configSchema>
export type { SourceConfig }
