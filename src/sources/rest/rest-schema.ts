import { z } from 'zod'
import { durationSchema } from '../../core/units-schema.js'

const duration = durationSchema
const paramValue = z.union([z.string(), z.number(), z.boolean()])

export const authSchema = z
  .union([
    z.strictObject({ bearer: z.string().min(1).describe('A bearer token, e.g. "${X_BEARER_TOKEN}".') }),
    z.strictObject({
      apiKey: z.string().min(1).describe('The key, e.g. "${TMDB_API_KEY}".'),
      name: z
        .string()
        .optional()
        .describe("Header or query parameter that carries it (default: the API's own)."),
      in: z.enum(['header', 'query']).optional(),
    }),
    z.strictObject({ basic: z.strictObject({ username: z.string(), password: z.string() }) }),
    z.strictObject({
      oauth2: z.strictObject({
        tokenUrl: z
          .string()
          .describe('Client-credentials token endpoint (absolute, or relative to baseUrl).'),
        clientId: z.string().min(1),
        clientSecret: z.string().min(1),
        scope: z.string().optional(),
      }),
    }),
  ])
  .describe(
    'How to authenticate: { bearer }, { apiKey, name, in }, { basic: { username, password } } or { oauth2: { tokenUrl, clientId, clientSecret } }.',
  )

export const paginatorSchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('next_token'),
      path: z.string().default('meta.next_token').describe('Where the token is in the body.'),
      param: z.string().default('next_token').describe('Query parameter that sends it back.'),
    }),
    z.strictObject({
      type: z.literal('cursor'),
      path: z.string().describe('Where the next cursor is in the body.'),
      param: z.string().default('cursor'),
    }),
    z.strictObject({
      type: z.literal('page_number'),
      param: z.string().default('page'),
      start: z.number().int().default(1),
      totalPath: z
        .string()
        .optional()
        .describe('Where the number of pages is (e.g. total_pages); else stop on an empty page.'),
    }),
    z.strictObject({
      type: z.literal('offset'),
      offsetParam: z.string().default('offset'),
      limitParam: z.string().default('limit'),
      limit: z.number().int().positive().default(100),
      totalPath: z.string().optional(),
    }),
    z.strictObject({ type: z.literal('link').describe('RFC 8288 Link header with rel="next".') }),
    z.strictObject({ type: z.literal('single') }),
  ])
  .describe('How to get every page.')

export const incrementalSchema = z
  .strictObject({
    cursorPath: z
      .string()
      .describe('Field of each record the cursor is taken from (its maximum), e.g. "id" or "created_at".'),
    param: z.string().describe('Query parameter that sends the cursor, e.g. "since_id" or "start_time".'),
    type: z
      .enum(['number', 'string', 'time'])
      .default('number')
      .describe('How cursor values compare; numbers may exceed 2^53.'),
    initial: z.string().optional().describe('Cursor for the very first run (e.g. a backfill start).'),
    endParam: z
      .string()
      .optional()
      .describe('Query parameter for the end of a backfill window, e.g. "end_time".'),
    end: z.string().optional().describe('End of a backfill window, sent as endParam.'),
    lag: duration
      .optional()
      .describe('For time cursors: ask again for this much before the cursor, to catch late records.'),
    resource: z
      .string()
      .optional()
      .describe('Which selected resource the cursor comes from (default: the first).'),
  })
  .describe(
    'Ask only for new data; the cursor is kept per partition and saved once the stream has the records.',
  )

export const parentSchema = z
  .strictObject({
    endpoint: z.string().optional().describe('Another endpoint of this source whose records drive this one.'),
    source: z
      .string()
      .optional()
      .describe('Another source (e.g. a CSV file source) whose records drive this one.'),
    sql: z
      .string()
      .optional()
      .describe(
        'A query over the lake\'s tables, run at each pull; each row drives a request, e.g. "select id from trusted.x_tweets where created_at > now() - interval 7 days".',
      ),
    resource: z.string().optional().describe("Which of the parent's resources (default: all)."),
    fields: z
      .record(z.string(), z.string())
      .describe('Placeholder or parameter name → field of the parent record, e.g. { imdb_id: "id" }.'),
    include: z
      .array(z.string())
      .default([])
      .describe('Parent fields copied into each child record as _parent_<field>.'),
  })
  .refine(
    (p) => [p.endpoint, p.source, p.sql].filter(Boolean).length === 1,
    'set exactly one of endpoint, source or sql',
  )

export const endpointSchema = z.strictObject({
  preset: z
    .string()
    .optional()
    .describe('Start from a preset endpoint (e.g. "tmdb.movie_details") and override its fields.'),
  path: z
    .string()
    .optional()
    .describe('Path after baseUrl; {name} placeholders come from params or the parent.'),
  method: z
    .literal('GET')
    .default('GET')
    .describe('Only GET for now: APIs that search with POST bodies are not covered yet.'),
  params: z
    .record(z.string(), z.union([paramValue, z.array(paramValue), z.array(z.record(z.string(), paramValue))]))
    .default({})
    .describe(
      'Query parameters; a list under partitionBy or chunk makes one request (and cursor) per value.',
    ),
  headers: z
    .record(z.string(), z.string())
    .default({})
    .describe("Extra headers for this endpoint, over the source's."),
  select: z
    .record(z.string(), z.string())
    .optional()
    .describe(
      'Resource name → path of its records in the body ("$" for the whole body), e.g. { tweets: "data", users: "includes.users" }.',
    ),
  paginator: paginatorSchema.optional(),
  incremental: incrementalSchema.optional(),
  partitionBy: z
    .string()
    .optional()
    .describe('A parameter whose list of values is split into partitions, each with its own cursor.'),
  chunk: z
    .strictObject({ param: z.string(), size: z.number().int().positive() })
    .optional()
    .describe('Send a list parameter in slices of this many comma-joined values (e.g. 100 tweet ids).'),
  parent: parentSchema.optional(),
  stamp: z
    .string()
    .optional()
    .describe(
      'A field added to each record with when it was fetched (ISO 8601), e.g. "fetched_at": values that change over time (public metrics) become queryable "as of".',
    ),
})

export const restSourceSchema = z.strictObject({
  kind: z.literal('rest').describe('A REST API, declared or from a preset.'),
  preset: z
    .string()
    .optional()
    .describe('A preset for the whole source, e.g. "x.recent_search"; see docs/presets.md.'),
  baseUrl: z
    .string()
    .optional()
    .describe("The API's base URL; presets set it, tests point it at `weir simulate`."),
  auth: authSchema.optional(),
  headers: z.record(z.string(), z.string()).default({}),
  params: z
    .record(z.string(), z.union([paramValue, z.array(paramValue), z.array(z.record(z.string(), paramValue))]))
    .default({})
    .describe('Parameters for every endpoint (with a preset: the preset endpoint).'),
  partitionBy: z.string().optional().describe('With a preset: the parameter whose values are partitions.'),
  parent: parentSchema.optional().describe('With a preset: the parent that drives it.'),
  endpoints: z.record(z.string(), endpointSchema).default({}).describe('Endpoints by name.'),
  timeout: duration.default('30s').describe('Per request.'),
  concurrency: z
    .number()
    .int()
    .positive()
    .default(4)
    .describe('Requests in flight at once across partitions and parents.'),
  retry: z
    .strictObject({
      attempts: z.number().int().positive().default(6),
      baseDelay: duration.default('500ms'),
      maxDelay: duration.default('30s'),
      maxWait: duration
        .default('2m')
        .describe('Longest a 429 may make the run wait; beyond it the run ends as partial.'),
    })
    .prefault({}),
  budget: z
    .strictObject({ requests: z.number().int().positive(), per: duration })
    .optional()
    .describe(
      'Proactive limit, e.g. { requests: 450, per: "15m" }; kept in state so a restart does not burst.',
    ),
  maxPages: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Pages per endpoint and partition per run, at most.'),
  maxRecords: z.number().int().positive().optional().describe('Records per run, at most.'),
})

export type RestSourceConfig = z.output<typeof restSourceSchema>
export type EndpointConfig = z.output<typeof endpointSchema>
export type AuthConfig = z.output<typeof authSchema>
export type Paginator = z.output<typeof paginatorSchema>
