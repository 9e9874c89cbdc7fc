import { z } from 'zod'
import { durationSchema } from '../../core/units-schema.js'
import { authSchema } from '../rest/rest-schema.js'

const paramValue = z.union([z.string(), z.number(), z.boolean()])

export const streamRuleSchema = z.strictObject({
  value: z.string().min(1).describe('The rule, e.g. "#dataengineering -is:retweet".'),
  tag: z.string().optional().describe('A label X returns with each matching tweet (matching_rules).'),
})

export const httpStreamSourceSchema = z.strictObject({
  kind: z
    .literal('http-stream')
    .describe(
      "A long-lived HTTP response read as it arrives: newline-delimited JSON (X's filtered stream) or Server-Sent Events.",
    ),
  preset: z
    .string()
    .optional()
    .describe('A preset for the whole source, e.g. "x.filtered_stream"; see docs/presets.md.'),
  baseUrl: z
    .string()
    .optional()
    .describe('The API\'s base URL; presets set it, and "simulator" is Weir\'s own simulator.'),
  path: z.string().optional().describe('Path after baseUrl.'),
  format: z
    .enum(['ndjson', 'sse'])
    .optional()
    .describe('ndjson: one JSON document a line, blank lines are keep-alives; sse: text/event-stream.'),
  auth: authSchema.optional(),
  headers: z.record(z.string(), z.string()).default({}),
  params: z.record(z.string(), paramValue).default({}).describe('Query parameters of the stream request.'),
  select: z
    .record(z.string(), z.string())
    .optional()
    .describe(
      'Resource name → path of its records in each message ("$" for the whole message), e.g. { tweets: "data", users: "includes.users" }.',
    ),
  attach: z
    .record(z.string(), z.string())
    .optional()
    .describe(
      "Fields added to each record of the first resource, from the message, e.g. { matching_rules: 'matching_rules' }.",
    ),
  events: z.array(z.string()).optional().describe('SSE: keep only events of these types (default: all).'),
  dedupeBy: z
    .string()
    .optional()
    .describe(
      "Path of a message's id: a message seen again (a backfill after a reconnect sends the gap's messages, some of them already received) is dropped.",
    ),
  rules: z
    .array(streamRuleSchema)
    .optional()
    .describe(
      "X: the filtered stream's rules. At each start, rules missing are added and rules not listed are deleted: the config is the app's whole rule set.",
    ),
  backfillMinutes: z
    .number()
    .int()
    .min(0)
    .max(5)
    .default(0)
    .describe(
      'X (Pro and Enterprise plans): after a disconnect, ask for up to this many minutes of what was missed; received messages are dropped by dedupeBy.',
    ),
  batch: z
    .strictObject({
      maxRecords: z.number().int().positive().default(500),
      maxAge: durationSchema
        .default('1s')
        .describe('A batch is published at the latest this long after its first message.'),
    })
    .prefault({})
    .describe('Messages are published in small batches as they arrive.'),
  runFor: durationSchema
    .default('10s')
    .describe(
      'How long one-shot commands (weir ingest, weir run --once) read before stopping; weir run reads for as long as it runs.',
    ),
  stallTimeout: durationSchema
    .default('30s')
    .describe('Reconnect when nothing, not even a keep-alive, came for this long (X sends one every 20 s).'),
  reconnect: z
    .strictObject({
      networkStep: durationSchema
        .default('250ms')
        .describe('Network errors: wait this much longer at each attempt...'),
      networkMax: durationSchema.default('16s').describe('...up to this.'),
      httpStart: durationSchema
        .default('5s')
        .describe('HTTP errors: start here, doubling at each attempt...'),
      httpMax: durationSchema.default('320s').describe('...up to this.'),
      rateLimitStart: durationSchema
        .default('1m')
        .describe('HTTP 429: start here, doubling at each attempt.'),
      giveUpAfter: durationSchema
        .default('10m')
        .describe(
          'Under weir run: fail the run (it is restarted with backoff) after this long without a connection.',
        ),
    })
    .prefault({})
    .describe(
      "X's documented reconnection backoff by default: linear for network errors, exponential for HTTP errors and 429.",
    ),
})

export type HttpStreamSourceConfig = z.output<typeof httpStreamSourceSchema>
