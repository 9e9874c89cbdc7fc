import { randomUUID } from 'node:crypto'
import { describeProcess, isGone, type ProcessIdentity, thisProcess } from '../core/process-identity.js'
import { sleep } from '../core/time.js'
import { getJson, joinKey, type ObjectStore } from '../storage/storage.js'

interface LeaseDoc extends Partial<ProcessIdentity> {
  readonly owner: string
  readonly expiresAt: string
}

/** Who holds a lease, and until when: what a skipped run reports. */
export interface LeaseHolder {
  readonly owner: string
  readonly expiresAt: string
  /** `pid 4242 on box, started …`, when the holder recorded it. */
  readonly process?: string
}

/**
 * Leases in the lake (`_state/leases/<name>.json`), so that processes sharing a lake, on one machine
 * or several, never run the same single-writer job (a table's refine, a stream partition's landing)
 * at once. A lease is taken and renewed with a conditional write; it lapses `ttlMs` after its last
 * renewal. It names its holder's host, pid and start time, so a holder that died on this host
 * (kill -9) is recognised and its lease taken over at once, without waiting for it to lapse.
 *
 * @example
 * const leases = createLeases(store)
 * if (await leases.acquire('refine/x_tweets', 60_000)) { ...; await leases.release('refine/x_tweets') }
 */
export function createLeases(store: ObjectStore, owner = `${process.pid}-${randomUUID().slice(0, 8)}`) {
  const key = (name: string) => joinKey('_state/leases', `${name}.json`)
  const me = thisProcess()
  const live = (held: LeaseDoc | undefined): held is LeaseDoc =>
    held !== undefined &&
    Date.parse(held.expiresAt) > Date.now() &&
    !(
      held.host !== undefined &&
      held.pid !== undefined &&
      held.started !== undefined &&
      isGone(held as ProcessIdentity)
    )
  return {
    owner,
    /** Takes the lease, or renews it when this owner holds it; false when another live owner holds it. */
    async acquire(name: string, ttlMs: number): Promise<boolean> {
      const k = key(name)
      const info = await store.head(k)
      if (info) {
        const held = await getJson<LeaseDoc>(store, k)
        if (held && held.owner !== owner && live(held)) return false
      }
      const doc: LeaseDoc = { owner, expiresAt: new Date(Date.now() + ttlMs).toISOString(), ...me }
      return store.putIfMatch(k, JSON.stringify(doc), info?.etag ?? null)
    },
    /**
     * Takes the lease, waiting while another live owner holds it, up to `waitMs`; false if it is
     * still held then. For one-shot runs, which must not report a table done that they skipped.
     */
    async acquireWaiting(
      name: string,
      ttlMs: number,
      waitMs: number,
      signal?: AbortSignal,
    ): Promise<boolean> {
      const until = Date.now() + waitMs
      for (;;) {
        if (await this.acquire(name, ttlMs)) return true
        if (Date.now() >= until || signal?.aborted) return false
        await sleep(Math.min(500, Math.max(0, until - Date.now())))
      }
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
    /** The live holder's owner id, if any. */
    async holder(name: string): Promise<string | undefined> {
      return (await this.describe(name))?.owner
    },
    /** The live holder, with its expiry and process, if any. */
    async describe(name: string): Promise<LeaseHolder | undefined> {
      const held = await getJson<LeaseDoc>(store, key(name))
      if (!live(held)) return undefined
      return {
        owner: held.owner,
        expiresAt: held.expiresAt,
        ...(held.host !== undefined && held.pid !== undefined && held.started !== undefined
          ? { process: describeProcess(held as ProcessIdentity) }
          : {}),
      }
    },
  }
}

export type Leases = ReturnType<typeof createLeases>
