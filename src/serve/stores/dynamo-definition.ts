import { z } from 'zod'
import { defineAdapter } from '../../core/adapter.js'
import type { ServingStore } from './store.js'

const schema = z.strictObject({
  kind: z.literal('dynamodb').describe('Amazon DynamoDB (a table per served table, a GSI per index).'),
  prefix: z.string().default('weir_').describe('Prefix of the table names.'),
  region: z.string().optional().describe('AWS region (default: AWS_REGION).'),
  endpoint: z
    .string()
    .optional()
    .describe('Endpoint (default: AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL, or AWS).'),
})

/** Amazon DynamoDB; the SDK loads only when a config names it. */
export const dynamoServingStore = defineAdapter({
  kind: 'dynamodb',
  schema,
  async create(cfg: z.output<typeof schema>, _ctx: undefined): Promise<ServingStore> {
    const { createDynamoStore } = await import('./dynamo-store.js')
    return createDynamoStore(cfg)
  },
})
