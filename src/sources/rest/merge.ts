/**
 * Runs `run` over `units` with at most `limit` running at once and yields their items as they come.
 * Each running unit fetches its next item while the consumer handles the current one, so HTTP
 * round trips overlap with publishing. Stopping early closes every running unit.
 */
export async function* mergeLimited<U, T>(
  units: AsyncIterable<U>,
  limit: number,
  run: (unit: U) => AsyncIterable<T>,
): AsyncGenerator<T> {
  type Step = { readonly id: number; readonly r: IteratorResult<T> }
  const source = units[Symbol.asyncIterator]()
  const active = new Map<number, { iter: AsyncIterator<T>; next: Promise<Step> }>()
  let ids = 0
  let exhausted = false
  const advance = (id: number, iter: AsyncIterator<T>) => {
    const next = iter.next().then((r) => ({ id, r }))
    // Marked handled here; the rejection still reaches the race below.
    next.catch(() => {})
    active.set(id, { iter, next })
  }
  const fill = async () => {
    while (active.size < limit && !exhausted) {
      const u = await source.next()
      if (u.done) exhausted = true
      else advance(ids++, run(u.value)[Symbol.asyncIterator]())
    }
  }
  try {
    await fill()
    while (active.size > 0) {
      const { id, r } = await Promise.race([...active.values()].map((a) => a.next))
      const a = active.get(id)!
      if (r.done) {
        active.delete(id)
        await fill()
        continue
      }
      advance(id, a.iter)
      yield r.value
    }
  } finally {
    await Promise.allSettled([...active.values()].map((a) => a.iter.return?.()))
    await source.return?.()
  }
}
