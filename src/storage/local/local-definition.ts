import { z } from 'zod'
import { defineAdapter } from '../../core/adapter.js'
import type { ObjectStore, StoreContext } from '../storage.js'

const schema = z.strictObject({})

/** A lake in a directory: files written to a temporary name, then renamed. */
export const localStore = defineAdapter({
  kind: 'local',
  schema,
  async create(_options: z.output<typeof schema>, ctx: StoreContext): Promise<ObjectStore> {
    if (ctx.location.kind !== 'local') throw new Error('the local store opens directories only')
    const { createLocalStore } = await import('./local-store.js')
    return createLocalStore(ctx.location.root, ctx.uri)
  },
})
