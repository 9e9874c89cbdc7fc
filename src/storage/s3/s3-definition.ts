import { z } from 'zod'
import { defineAdapter } from '../../core/adapter.js'
import { durationSchema } from '../../core/units-schema.js'
import type { ObjectStore, StoreContext } from '../storage.js'

const schema = z.strictObject({
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
  timeout: durationSchema
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

/** A lake at s3://bucket/prefix; the AWS SDK loads only then. */
export const s3Store = defineAdapter({
  kind: 's3',
  schema,
  async create(options: z.output<typeof schema>, ctx: StoreContext): Promise<ObjectStore> {
    if (ctx.location.kind !== 's3') throw new Error('the S3 store opens s3:// lakes only')
    const { createS3Store } = await import('./s3-store.js')
    return createS3Store({ bucket: ctx.location.bucket, prefix: ctx.location.prefix, ...options })
  },
})
