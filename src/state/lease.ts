import { randomUUID } from 'node:crypto'
import { getJson, joinKey, type ObjectStore } from '../storage/storage.js'

interface LeaseDoc {
  readonly owner: string
  readonly expiresAt: string
}

/**
 * Leases in the lake (`_state/leases/<name>.json`), so that processes sharing a lake, on one machine
 * or several, never run the same single-writer job (a table's refine, a stream partition's landing)
 * at once. A lease is taken and renewed with a conditional write; it lapses `ttlMs` after its last
 * renewal, so a process that died frees its leases by itself.
 *
 * @example
 * const leases = createLeases(store)
 * if (await leases.acquire('refine/x_tweets', 60_000)) { ...; await leases.release('refine/x_tweets') }
 */
export function createLeases(store: ObjectStore, owner = `${process.pid}-${randomUUID().slice(0, 8)}`) {
  const key = (name: string) => joinKey('_state/leases', `${name}.json`)
  return {
    owner,
    /** Takes the lease, or renews it when this owner holds it; false when another owner holds it. */
    async acquire(name: string, ttlMs: number): Promise<boolean> {
      const k = key(name)
      const info = await store.head(k)
      if (info) {
        const held = await getJson<LeaseDoc>(store, k)
        if (held && held.owner !== owner && Date.parse(held.expiresAt) > Date.now()) return false
      }
      const doc: LeaseDoc = { owner, expiresAt: new Date(Date.now() + ttlMs).toISOString() }
      return store.putIfMatch(k, JSON.stringify(doc), info?.etag ?? null)
    },
    /** Gives the lease up, if this owner holds it. */
    async release(name: string): Promise<void> {
      const k = key(name)
      const info = await store.head(k)
      const held = info ? await getJson<LeaseDoc>(store, k) : undefined
      if (held?.owner !== owner) return
      // Expired at once, rather than deleted: a conditional write keeps a racing taker's copy safe.
      await store.putIfMatch(k, JSON.stringify({ owner, expiresAt: new Date(0).toISOString() }), info!.etag)
    },
    async holder(name: string): Promise<string | undefined> {
      const held = await getJson<LeaseDoc>(store, key(name))
      return held && Date.parse(held.expiresAt) > Date.now() ? held.owner : undefined
    },
  }
}

export type Leases = ReturnType<typeof createLeases>
