import { z } from 'zod'
import { defineAdapter } from '../../core/adapter.js'
import { durationSchema } from '../../core/units-schema.js'
import { partitionsSchema } from '../partitions-schema.js'
import type { Stream, StreamContext } from '../stream.js'

const schema = z.strictObject({
  kind: z.literal('nats').describe('NATS JetStream: a stream per topic, durable pull consumers per group.'),
  url: z.string().default('nats://127.0.0.1:4222').describe('NATS server URL, e.g. "${NATS_URL}".'),
  prefix: z.string().default('weir').describe('Prefix of stream names and subjects, to share a server.'),
  partitions: partitionsSchema,
  ackWait: durationSchema
    .default('30s')
    .describe('How long a record may stay uncommitted before it is redelivered.'),
  maxAge: durationSchema.optional().describe('Retention: drop records older than this.'),
  maxBytes: z
    .number()
    .int()
    .positive()
    .optional()
    .describe('Retention: keep at most this many bytes per topic.'),
})

/** NATS JetStream; the client loads only when a config names it. */
export const natsStream = defineAdapter({
  kind: 'nats',
  schema,
  async create(cfg: z.output<typeof schema>, _ctx: StreamContext): Promise<Stream> {
    const { createNatsStream } = await import('./nats-stream.js')
    const { url, prefix, ackWait, maxAge, maxBytes, partitions } = cfg
    return createNatsStream({
      url,
      prefix,
      ackWait,
      partitions,
      ...(maxAge !== undefined ? { maxAge } : {}),
      ...(maxBytes !== undefined ? { maxBytes } : {}),
    })
  },
})
