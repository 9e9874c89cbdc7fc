import { onAbort, sleep } from '../core/time.js'
import type { Pipeline } from './pipeline.js'

const HEARTBEAT_MS = 2_000
const MEMBER_TTL_MS = 6_000
const PARTITION_TTL_MS = 15_000

/**
 * Landing shared by several processes (`weir run --role landing` on NATS): each process announces
 * itself in the lake (`_state/members/landing/<owner>`), the live members split every topic's
 * partitions between them in turn, and a process lands a partition only while it holds its lease.
 * When the members change, each process stops its landing (flushing and committing what it took),
 * gives up the partitions that are no longer its own, and starts again on its new share; a new owner
 * waits for the old one's lease, so a partition is never landed by two processes at once.
 */
export async function sharedLanding(
  p: Pipeline,
  signal: AbortSignal,
  land: (
    signal: AbortSignal,
    partitions: (topic: string, all: readonly string[]) => Promise<readonly string[]>,
  ) => Promise<{ records: number; files: number }>,
): Promise<{ records: number; files: number }> {
  const me = p.leases.owner
  const memberDoc = (owner: string) => `members/landing/${owner}`
  const beat = () =>
    p.state.put(memberDoc(me), { expiresAt: new Date(Date.now() + MEMBER_TTL_MS).toISOString() })
  const members = async () => {
    const live: string[] = []
    for (const name of await p.state.list('members/landing')) {
      const doc = await p.state.get<{ expiresAt: string }>(name)
      if (doc && Date.parse(doc.expiresAt) > Date.now()) live.push(name.slice('members/landing/'.length))
    }
    return live.sort()
  }
  const total = { records: 0, files: 0 }
  await beat()
  // A moment for the others starting with us to announce themselves, so the first share is fair.
  await sleep(HEARTBEAT_MS, signal)
  while (!signal.aborted) {
    await beat()
    const group = await members()
    const index = Math.max(0, group.indexOf(me))
    const held = new Set<string>()
    const round = new AbortController()
    const unlisten = onAbort(signal, () => round.abort())
    const watch = setInterval(() => {
      void (async () => {
        await beat()
        for (const lease of held) if (!(await p.leases.acquire(lease, PARTITION_TTL_MS))) round.abort()
        if ((await members()).join() !== group.join()) round.abort()
      })().catch(() => round.abort())
    }, HEARTBEAT_MS)
    try {
      const r = await land(round.signal, async (topic, all) => {
        const mine = all.filter((_, i) => i % group.length === index)
        const got: string[] = []
        for (const part of mine) {
          const lease = `landing/${topic}/${part}`
          // The previous owner lets go once it has flushed and committed: wait for it, up to its lease.
          const until = Date.now() + PARTITION_TTL_MS + HEARTBEAT_MS
          while (!round.signal.aborted && !(await p.leases.acquire(lease, PARTITION_TTL_MS))) {
            if (Date.now() > until) break
            await sleep(250, round.signal)
          }
          if (await p.leases.holder(lease).then((h) => h === me)) {
            held.add(lease)
            got.push(part)
          }
        }
        return got
      })
      total.records += r.records
      total.files += r.files
    } finally {
      clearInterval(watch)
      unlisten()
      for (const lease of held) await p.leases.release(lease)
    }
  }
  await p.state.put(memberDoc(me), { expiresAt: new Date(0).toISOString() })
  return total
}
