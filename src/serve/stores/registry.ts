import { z } from 'zod'
import { adapterFor, kindSchemas } from '../../core/adapter.js'
import { dynamoServingStore } from './dynamo-definition.js'
import { embeddedServingStore } from './embedded-definition.js'
import { postgresServingStore } from './postgres-definition.js'
import type { ServingStore } from './store.js'

/** The built-in serving stores. A new kind adds its definition (beside its adapter) here. */
export const SERVING_STORE_KINDS = [embeddedServingStore, postgresServingStore, dynamoServingStore] as const

export const servingStoreSchema = z
  .discriminatedUnion('kind', kindSchemas(SERVING_STORE_KINDS))
  .prefault({ kind: 'embedded' })
  .describe('Where served tables are kept.')

export type ServingStoreConfig = z.input<typeof servingStoreSchema>

/** Opens the configured serving store; heavy clients load here, not at start-up. */
export function openServingStore(cfg: ServingStoreConfig): Promise<ServingStore> {
  const parsed = servingStoreSchema.parse(cfg)
  return adapterFor(SERVING_STORE_KINDS, parsed.kind, 'serving store').create(parsed as never, undefined)
}
