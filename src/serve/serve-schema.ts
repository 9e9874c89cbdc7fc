import { z } from 'zod'
import { compileExpr, ExprError } from '../core/expr.js'
import { durationSchema } from '../core/units-schema.js'
import { servingStoreSchema } from './stores/registry.js'

const duration = durationSchema

const field = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/,
    'a field path such as author_id or public_metrics.like_count',
  )

export const serveSchema = z
  .strictObject({
    store: servingStoreSchema,
    tables: z
      .record(
        z.string().regex(/^[a-z][a-z0-9_]*$/, 'a lower-case name, e.g. tweets'),
        z
          .strictObject({
            source: z
              .string()
              .optional()
              .describe('The source whose records fill the table (a stream topic), as they arrive.'),
            model: z
              .string()
              .optional()
              .describe(
                'Or a refined model whose rows fill the table after each build (an aggregate such as tweets per user); keys that left the model are deleted. Needs key.',
              ),
            resource: z.string().optional().describe("Only this resource's records."),
            key: field
              .optional()
              .describe(
                'The field that identifies an item; without one, a hash of the record (replays overwrite, never duplicate).',
              ),
            indexes: z
              .record(field, z.enum(['string', 'number']).describe('How the index compares values.'))
              .default({})
              .describe(
                'Fields the API may filter and sort on, with their type, e.g. { author_id: string }.',
              ),
            derive: z
              .record(
                z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
                z
                  .string()
                  .superRefine((src, ctx) => {
                    try {
                      compileExpr(src)
                    } catch (err) {
                      if (err instanceof ExprError)
                        ctx.addIssue({
                          code: 'custom',
                          message: `invalid expression "${src}": ${err.message}`,
                        })
                      else throw err
                    }
                  })
                  .describe(
                    'An expression over the record (the alert rules\' language), e.g. "public_metrics.like_count + public_metrics.retweet_count".',
                  ),
              )
              .default({})
              .describe('Fields computed from each record before it is stored.'),
          })
          .superRefine((t, ctx) => {
            if (Boolean(t.source) === Boolean(t.model))
              ctx.addIssue({
                code: 'custom',
                message: 'set exactly one of source (the stream) or model (a refined model)',
              })
            if (t.model && !t.key)
              ctx.addIssue({
                code: 'custom',
                path: ['key'],
                message: "a table filled from a model needs key: the model's unique column",
              })
            if (t.model && t.resource)
              ctx.addIssue({
                code: 'custom',
                path: ['resource'],
                message: 'resource is for tables filled from the stream',
              })
          }),
      )
      .default({})
      .describe(
        'Tables served by `weir serve`: filled from the stream by the serving sink, or from a refined model after each build.',
      ),
    keys: z
      .array(
        z
          .strictObject({
            name: z.string().describe('Who the key is for (shown in the access log, never the key).'),
            key: z
              .string()
              .optional()
              .describe(
                'The key itself, from the environment: "${DASHBOARD_API_KEY}". Kept only as its hash.',
              ),
            sha256: z
              .string()
              .regex(/^[0-9a-f]{64}$/)
              .optional()
              .describe('Or its SHA-256, hex.'),
            scopes: z.array(z.string()).min(1).describe('Tables it may read ("*": all).'),
            rateLimit: z
              .strictObject({ count: z.number().int().positive(), per: duration })
              .optional()
              .describe('Requests per period for this key; beyond it, 429.'),
          })
          .refine((k) => Boolean(k.key) !== Boolean(k.sha256), 'set exactly one of key or sha256'),
      )
      .default([])
      .describe('API keys; required whenever the server listens on anything but loopback.'),
    cors: z
      .strictObject({ origins: z.array(z.string()).min(1).describe('Allowed origins, or ["*"].') })
      .optional()
      .describe('Cross-origin reads from browsers.'),
    port: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .default(8080)
      .describe('Port of the API (weir run, weir serve without --port).'),
    host: z.string().default('127.0.0.1').describe('Address of the API; anything but loopback needs keys.'),
    ui: z.boolean().default(true).describe('Serve the dashboard at / (its API under /api/ui).'),
    dashboards: z
      .string()
      .default('dashboards')
      .describe(
        'Folder of dashboards as Markdown with SQL and chart blocks (default: the examples when it does not exist).',
      ),
    staleAfter: durationSchema
      .default('6h')
      .describe(
        'Dashboard: a table whose files have not changed for this long is flagged stale (freshness).',
      ),
    maxLimit: z.number().int().positive().default(1000).describe('Most items a page may hold.'),
    defaultLimit: z
      .number()
      .int()
      .positive()
      .default(100)
      .describe('Items per page when `limit` is not given.'),
  })
  .prefault({})
  .describe('`weir serve`: a read-only HTTP API over served tables.')

export type ServeConfig = z.output<typeof serveSchema>
