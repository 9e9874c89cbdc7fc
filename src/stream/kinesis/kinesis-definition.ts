import { z } from 'zod'
import { defineAdapter } from '../../core/adapter.js'
import type { Stream, StreamContext } from '../stream.js'

const schema = z.strictObject({
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
  aggregate: z
    .boolean()
    .default(true)
    .describe(
      "KPL aggregation: the records bound for one shard travel several to a Kinesis record (AWS deaggregation in Lambda, the KCL and Firehose reads them). A shard takes 1,000 Kinesis records a second: without it, 1,000 of Weir's.",
    ),
  compression: z
    .enum(['none', 'gzip'])
    .default('none')
    .describe(
      "gzip each aggregated record: several times more records per shard within its 1 MB/s, but only Weir can read them then (not Firehose or a Lambda without Weir's unwrapping).",
    ),
  endpoint: z
    .string()
    .optional()
    .describe('Endpoint for an emulator (kinesalite, LocalStack); AWS_ENDPOINT_URL_KINESIS works too.'),
})

/** Amazon Kinesis; the SDK loads only when a config names it. Checkpoints live in the lake's state. */
export const kinesisStream = defineAdapter({
  kind: 'kinesis',
  schema,
  async create(cfg: z.output<typeof schema>, ctx: StreamContext): Promise<Stream> {
    if (!ctx.state) throw new Error('the Kinesis stream needs a state store for its checkpoints')
    const { createKinesisStream } = await import('./kinesis-stream.js')
    const { prefix, shards, region, endpoint, aggregate, compression } = cfg
    return createKinesisStream({
      checkpoints: ctx.state,
      prefix,
      shards,
      aggregate,
      gzip: compression === 'gzip',
      ...(region ? { region } : {}),
      ...(endpoint ? { endpoint } : {}),
    })
  },
})
