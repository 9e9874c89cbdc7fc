import { z } from 'zod'
import { alertsSchema } from '../alerts/alerts-schema.js'
import { tableLocation } from '../core/paths.js'
import { isTimeZone } from '../core/time.js'
import { durationSchema, postgresUrlSchema, sizeSchema } from '../core/units-schema.js'
import { parseSchedule } from '../scheduler/schedule.js'
import { serveSchema } from '../serve/serve-schema.js'
import { codeSourceSchema } from '../sources/code/code-source.js'
import { demoSourceSchema } from '../sources/demo/demo-source.js'
import { fileSourceSchema } from '../sources/file/file-source.js'
import { PRESETS } from '../sources/rest/presets.js'
import { restSourceSchema } from '../sources/rest/rest-schema.js'

const name = z
  .string()
  .regex(/^[a-z][a-z0-9_]*$/, 'a lower-case name of letters, digits and _ (it becomes part of table names)')

const size = sizeSchema
const duration = durationSchema

// Each source kind owns its schema (beside its adapter); the config composes them here.
// `{ preset: 'x.recent_search', ... }` may leave out `kind: 'rest'`, as in the design's example.
export const sourceSchema = z.preprocess(
  (v) => (v && typeof v === 'object' && !('kind' in v) && 'preset' in v ? { kind: 'rest', ...v } : v),
  z.discriminatedUnion('kind', [demoSourceSchema, codeSourceSchema, restSourceSchema, fileSourceSchema]),
)

export const s3OptionsSchema = z.strictObject({
  endpoint: z
    .string()
    .url()
    .optional()
    .describe(
      'An S3-compatible endpoint (MinIO, R2); defaults to AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL or AWS.',
    ),
  region: z.string().optional().describe('AWS region; defaults to AWS_REGION or us-east-1.'),
  forcePathStyle: z
    .boolean()
    .optional()
    .describe('Path-style addressing (bucket in the path); on by default when an endpoint is set.'),
  timeout: duration
    .default('30s')
    .describe(
      'How long a request may go without an answer (or without data) before it is abandoned and tried again, e.g. 30s.',
    ),
  attempts: z
    .number()
    .int()
    .min(1)
    .max(20)
    .default(5)
    .describe(
      'Tries per request (the SDK backs off between them) before the stage reports the error and retries later.',
    ),
})

const partitions = z
  .number()
  .int()
  .min(1)
  .max(1024)
  .default(1)
  .describe(
    'Partitions of each new topic; records with the same key keep their order in one. A topic keeps the count it was created with.',
  )

export const configSchema = z
  .strictObject({
    lake: z
      .string()
      .min(1)
      .default('./lake')
      .describe('Where the lake lives: a directory, or s3://bucket/prefix. Example: "./lake".'),
    storage: z
      .strictObject({ s3: s3OptionsSchema.prefault({}) })
      .prefault({})
      .describe('Object-store options.'),
    stream: z
      .discriminatedUnion('kind', [
        z.strictObject({
          kind: z.literal('embedded').describe('A durable log on local disk; needs no server.'),
          dir: z
            .string()
            .optional()
            .describe(
              'Directory of the log; defaults to <lake>/_stream for a local lake, .weir/stream otherwise.',
            ),
          partitions,
          segmentBytes: size.default('128MB').describe('Size of each segment file before a new one starts.'),
          retention: z
            .strictObject({
              maxBytes: size
                .optional()
                .describe('Keep at most this much per topic (whole segments are dropped).'),
              maxAge: duration.optional().describe('Drop segments whose records are all older than this.'),
            })
            .optional()
            .describe(
              'What the log keeps; consumers behind a dropped segment go on from the oldest kept record.',
            ),
        }),
        z.strictObject({
          kind: z
            .literal('nats')
            .describe('NATS JetStream: a stream per topic, durable pull consumers per group.'),
          url: z.string().default('nats://127.0.0.1:4222').describe('NATS server URL, e.g. "${NATS_URL}".'),
          prefix: z
            .string()
            .default('weir')
            .describe('Prefix of stream names and subjects, to share a server.'),
          partitions,
          ackWait: duration
            .default('30s')
            .describe('How long a record may stay uncommitted before it is redelivered.'),
          maxAge: duration.optional().describe('Retention: drop records older than this.'),
          maxBytes: z
            .number()
            .int()
            .positive()
            .optional()
            .describe('Retention: keep at most this many bytes per topic.'),
        }),
        z.strictObject({
          kind: z
            .literal('kinesis')
            .describe(
              'Amazon Kinesis Data Streams: a stream per topic, a partition per shard; checkpoints per group in the lake state.',
            ),
          prefix: z.string().default('weir').describe('Kinesis stream names are <prefix>-<topic>.'),
          shards: z
            .number()
            .int()
            .min(1)
            .default(1)
            .describe('Shards of a stream Weir creates; an existing stream keeps its own.'),
          region: z.string().optional().describe('AWS region; defaults to AWS_REGION / the profile.'),
          endpoint: z
            .string()
            .optional()
            .describe(
              'Endpoint for an emulator (kinesalite, LocalStack); AWS_ENDPOINT_URL_KINESIS works too.',
            ),
        }),
      ])
      .prefault({ kind: 'embedded' })
      .describe('The durable stream between sources and consumers.'),
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
          .describe('DuckDB memory limit, e.g. "2GB"; beyond it DuckDB spills to disk. Default: 80% of RAM.'),
      })
      .prefault({})
      .describe('The embedded SQL engine (DuckDB) used by refine and query.'),
    sources: z.record(name, sourceSchema).default({}).describe('Where data comes from, by source name.'),
    landing: z
      .strictObject({
        maxRecords: z.number().int().positive().default(100).describe('Records per raw file at most.'),
        maxBytes: size
          .default('10MB')
          .describe('Bytes per raw file at most (e.g. "10MB"); a number is bytes.'),
        maxAge: duration
          .default('60s')
          .describe(
            'Longest a record waits in a buffer before its file is written (e.g. "60s"); a number is ms.',
          ),
        path: z
          .string()
          .default('raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}')
          // File names come from stream offsets, which are per source; two tables in one folder could collide.
          .refine(
            (t) =>
              /\{source\}.*\{resource\}|\{resource\}.*\{source\}/.test(
                t.split(/\{(?:yyyy|mm|dd|hh)\}/)[0] ?? '',
              ),
            {
              message: 'the path must contain {source} and {resource} before any time field',
            },
          )
          .describe(
            'Template of raw file folders; fields: source, format, resource, yyyy, mm, dd, hh. Hive style works too: "raw/{source}/{resource}/year={yyyy}/month={mm}/day={dd}/hour={hh}".',
          ),
        timeBy: z
          .enum(['event', 'ingestion'])
          .default('event')
          .describe(
            "Partition folders by each record's event time (tables.<t>.eventTime; a record without one is set aside) or by when it was ingested.",
          ),
        timeZone: z
          .string()
          .default('UTC')
          .refine(isTimeZone, { message: 'an IANA time zone such as "UTC" or "Europe/Paris"' })
          .describe("Time zone of the folders' dates and hours."),
        compression: z.enum(['none', 'gzip']).default('none').describe('gzip raw files (.ndjson.gz).'),
        extension: z
          .enum(['ndjson', 'json'])
          .default('ndjson')
          .describe('File extension of raw files; the content is one JSON document a line either way.'),
        maxOpenFiles: z
          .number()
          .int()
          .positive()
          .default(500)
          .describe('Files buffered at once at most; beyond it the oldest are written early.'),
        maxBufferedBytes: size
          .default('128MB')
          .describe('Bytes buffered at once at most; beyond it the oldest files are written early.'),
        maxRecordBytes: size.default('1MB').describe('A bigger record is set aside in _errors/landing.'),
      })
      .prefault({})
      .describe('How the stream is batched into raw files.'),
    tables: z
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
          landing: z
            .strictObject({
              maxRecords: z.number().int().positive().optional().describe('Records per raw file at most.'),
              maxBytes: size.optional().describe('Bytes per raw file at most.'),
              maxAge: duration.optional().describe('Longest a record waits before its file is written.'),
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
      .describe('Per-table settings, keyed "source.resource".'),
    models: z
      .strictObject({
        dir: z
          .string()
          .default('models')
          .describe('Folder of SQL models (models/**/*.sql) and their YAML docs and tests.'),
        snapshots: z
          .string()
          .default('snapshots')
          .describe('Folder of snapshots (type-2 history) as SQL files.'),
        tests: z
          .string()
          .default('tests')
          .describe('Folder of custom data tests: SQL files selecting failing rows.'),
        concurrency: z.number().int().positive().default(4).describe('Independent models built at once.'),
        config: z
          .record(
            z.string(),
            z.record(
              z.string(),
              z
                .union([z.string(), z.number(), z.boolean(), z.array(z.string())])
                .describe('A config() value: text, number, boolean or a list of text.'),
            ),
          )
          .default({})
          .describe(
            "Per model, what its {{ config(...) }} may set (materialized, unique_key, partition_by, incremental_strategy, tags, ...); the file's own config() wins. Example: { fact_tweet: { materialized: 'incremental', unique_key: 'tweet_id' } }.",
          ),
      })
      .prefault({})
      .describe('SQL models, relative to the config file: `weir model` builds them into the refined zone.'),
    warehouse: z
      .strictObject({
        postgres: z
          .strictObject({
            url: postgresUrlSchema
              .optional()
              .describe(
                'postgres:// URL, e.g. "${DATABASE_URL}"; without it, the PG* variables (PGHOST, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE).',
              ),
            schema: z.string().default('refined').describe('The schema the refined tables go to.'),
            select: z
              .array(z.string())
              .optional()
              .describe('Only these models (default: every refined table).'),
          })
          .describe(
            'Load the refined tables into PostgreSQL after each models run (weir run), or with weir load postgres.',
          ),
      })
      .optional()
      .describe('Where the refined star schema is loaded for analysts and BI tools.'),
    alerts: alertsSchema,
    serve: serveSchema,
    run: z
      .strictObject({
        timeZone: z
          .string()
          .default('UTC')
          .refine(isTimeZone, { message: 'an IANA time zone such as "UTC" or "Europe/Paris"' })
          .describe('Time zone of cron schedules.'),
        catchup: z
          .boolean()
          .default(false)
          .describe(
            'On start, run a scheduled job once if a tick was missed since its last run (once, never one run per missed tick). Off: the first run is the next tick.',
          ),
        retries: z
          .number()
          .int()
          .min(0)
          .default(2)
          .describe('Retries of a failed run (exponential backoff with jitter).'),
        retryDelay: duration.default('2s').describe('First retry delay; it doubles with each retry.'),
        timeout: duration.default('30m').describe('Longest a run may take before it is stopped and retried.'),
        grace: duration
          .default('30s')
          .describe(
            'On SIGINT/SIGTERM, how long running jobs get to flush and commit before the process exits.',
          ),
        maxLag: z
          .number()
          .int()
          .positive()
          .default(1_000_000)
          .describe(
            'Backpressure: a source waits before publishing while its topic holds more records than this that landing has not committed (landing stopped or slower than the source), instead of filling the disk; the batches already in flight (up to four) may pass it. Not with --once, where landing runs after the sources.',
          ),
        jobs: z
          .record(
            z.string(),
            z.strictObject({
              schedule: z
                .string()
                .optional()
                .describe('rate(5 minutes), cron(0 12 * * ? *) (EventBridge) or a 5-field cron.'),
              after: z
                .array(z.string())
                .optional()
                .describe(
                  'Run after each successful run of these jobs (e.g. models after ["x"]), beside a schedule.',
                ),
              retries: z.number().int().min(0).optional().describe("This job's retries, over run.retries."),
              timeout: duration.optional().describe("This job's timeout, over run.timeout."),
            }),
          )
          .default({})
          .describe(
            'Per job: a source name (its pulls), "models". Sources without a schedule are pulled once at start; models run after each refine that wrote records unless scheduled.',
          ),
        backfill: z
          .record(
            z.string(),
            z.strictObject({
              window: duration.default('1d').describe('Length of each backfill run.'),
              params: z
                .record(
                  z.string(),
                  z.string().describe('A parameter value; {start}, {end} and {date} are filled in.'),
                )
                .describe(
                  'Parameters of each windowed run; {start} and {end} become the window bounds (ISO-8601), e.g. { start_time: "{start}", end_time: "{end}" }.',
                ),
            }),
          )
          .default({})
          .describe('Per source: how `weir backfill` splits a date range into windowed runs.'),
      })
      .prefault({})
      .describe('`weir run`: schedules, retries, timeouts and backfills.'),
  })
  .superRefine((c, ctx) => {
    checkReferences(c, ctx)
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

/** Jobs of `weir run` other than the sources' own. */
const STAGE_JOBS = ['land', 'refine', 'models', 'warehouse', 'alerts', 'serve']

/**
 * Names that must name something: every preset, schedule, and reference to a source (tables,
 * jobs, backfills, alert rules, served tables). Checked when the config loads, with the key path,
 * rather than when a stage first meets it (or never, where a dangling name would do nothing).
 */
function checkReferences(
  c: {
    sources: Record<string, unknown>
    tables: Record<string, unknown>
    run: {
      timeZone: string
      jobs: Record<string, { schedule?: string | undefined; after?: string[] | undefined }>
      backfill: Record<string, unknown>
    }
    alerts: { rules: Record<string, { source: string }> }
    serve: { tables: Record<string, { source: string }> }
  },
  ctx: z.core.$RefinementCtx,
): void {
  const sources = Object.keys(c.sources)
  const known = sources.length ? `; sources: ${sources.join(', ')}` : '; the config declares no sources'
  const source = (name: string, path: (string | number)[]) => {
    if (!c.sources[name]) ctx.addIssue({ code: 'custom', path, message: `no source named "${name}"${known}` })
  }
  for (const [name, s] of Object.entries(c.sources)) {
    const rest = s as { kind?: string; preset?: string; endpoints?: Record<string, { preset?: string }> }
    if (rest.kind !== 'rest') continue
    const presets = [
      ...(rest.preset ? [[['sources', name, 'preset'], rest.preset] as const] : []),
      ...Object.entries(rest.endpoints ?? {}).flatMap(([e, ep]) =>
        ep.preset ? [[['sources', name, 'endpoints', e, 'preset'], ep.preset] as const] : [],
      ),
    ]
    for (const [path, preset] of presets) {
      if (!PRESETS[preset])
        ctx.addIssue({
          code: 'custom',
          path: [...path],
          message: `no preset "${preset}" (see docs/presets.md: ${Object.keys(PRESETS).slice(0, 4).join(', ')}, ...)`,
        })
    }
  }
  for (const key of Object.keys(c.tables)) source(key.split('.')[0] ?? key, ['tables', key])
  const jobs = [...sources, ...STAGE_JOBS]
  for (const [name, job] of Object.entries(c.run.jobs)) {
    if (!jobs.includes(name))
      ctx.addIssue({
        code: 'custom',
        path: ['run', 'jobs', name],
        message: `no job named "${name}": a job is a source (${sources.join(', ') || 'none declared'}) or one of ${STAGE_JOBS.join(', ')}`,
      })
    for (const [i, after] of (job.after ?? []).entries())
      if (!jobs.includes(after))
        ctx.addIssue({
          code: 'custom',
          path: ['run', 'jobs', name, 'after', i],
          message: `no job named "${after}"`,
        })
    if (job.schedule) {
      try {
        parseSchedule(job.schedule, c.run.timeZone)
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          path: ['run', 'jobs', name, 'schedule'],
          message: (err as Error).message,
        })
      }
    }
  }
  for (const name of Object.keys(c.run.backfill)) source(name, ['run', 'backfill', name])
  for (const [name, r] of Object.entries(c.alerts.rules))
    source(r.source, ['alerts', 'rules', name, 'source'])
  for (const [name, t] of Object.entries(c.serve.tables))
    source(t.source, ['serve', 'tables', name, 'source'])
}

/** A config as written by a user (defaults optional). */
export type WeirConfigInput = z.input<typeof configSchema>
/** A validated config with every default filled in. */
export type WeirConfig = z.output<typeof configSchema>
export type SourceConfig = z.output<typeof sourceSchema>
