import { z } from 'zod'
import { isTimeZone } from '../core/time.js'
import { durationSchema } from '../core/units-schema.js'

/** `weir run`: schedules, retries, timeouts and backfills. */
export const runSchema = z
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
    retryDelay: durationSchema.default('2s').describe('First retry delay; it doubles with each retry.'),
    timeout: durationSchema
      .default('30m')
      .describe('Longest a run may take before it is stopped and retried.'),
    grace: durationSchema
      .default('30s')
      .describe('On SIGINT/SIGTERM, how long running jobs get to flush and commit before the process exits.'),
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
          timeout: durationSchema.optional().describe("This job's timeout, over run.timeout."),
        }),
      )
      .default({})
      .describe(
        'Per job: a source name (its pulls), "models", "refine", "maintain". Sources without a schedule are pulled once at start; models run after each refine that wrote records unless scheduled; maintain (Iceberg snapshot expiry, with Iceberg tables) runs hourly.',
      ),
    backfill: z
      .record(
        z.string(),
        z.strictObject({
          window: durationSchema.default('1d').describe('Length of each backfill run.'),
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
  .describe('`weir run`: schedules, retries, timeouts and backfills.')
