/** The most keys one lookup statement asks for. */
const MAX_KEYS = 100

interface Waiter<T> {
  resolve(v: T | undefined): void
  reject(e: unknown): void
}

/**
 * Lookups by key, gathered: while one statement is in flight, the keys asked for meanwhile wait
 * and go together in the next (`WHERE k IN (...)`); a key the statement in flight already asks for
 * waits for that one. A lone request goes at once; under load, twenty connections cost one round
 * trip instead of twenty queued one behind the other (the embedded store runs its statements one
 * at a time).
 */
export function keyLoader<T>(fetch: (keys: readonly string[]) => Promise<ReadonlyMap<string, T>>) {
  const waiting = new Map<string, Waiter<T>[]>()
  /** The statement in flight, by key; cleared before its callers are answered. */
  let current: Map<string, Waiter<T>[]> | undefined
  let busy = false
  const drain = async () => {
    busy = true
    while (waiting.size) {
      const batch = new Map([...waiting].slice(0, MAX_KEYS))
      for (const k of batch.keys()) waiting.delete(k)
      current = batch
      try {
        const found = await fetch([...batch.keys()])
        current = undefined
        for (const [k, ws] of batch) for (const w of ws) w.resolve(found.get(k))
      } catch (err) {
        current = undefined
        for (const ws of batch.values()) for (const w of ws) w.reject(err)
      }
    }
    busy = false
  }
  return (key: string): Promise<T | undefined> =>
    new Promise((resolve, reject) => {
      const inFlight = current?.get(key)
      if (inFlight) {
        inFlight.push({ resolve, reject })
        return
      }
      const list = waiting.get(key) ?? []
      list.push({ resolve, reject })
      waiting.set(key, list)
      if (!busy) void drain()
    })
}
