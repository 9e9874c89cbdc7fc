/**
 * Writes a document as it is now, one write at a time: calls made while a write is in flight are
 * served together by the next one (a burst of intents costs one write, not one each). Each call
 * resolves once a write that started after it has finished, or rejects with that write's error.
 */
export function coalescingWriter(write: () => Promise<void>): () => Promise<void> {
  let asked = 0
  let done = 0
  let running = false
  const waiting: { upTo: number; resolve: () => void; reject: (err: unknown) => void }[] = []
  const pump = async () => {
    running = true
    while (done < asked) {
      const upTo = asked
      let failed: unknown
      try {
        await write()
      } catch (err) {
        failed = err
      }
      done = upTo
      for (const w of waiting.filter((x) => x.upTo <= upTo)) {
        if (failed === undefined) w.resolve()
        else w.reject(failed)
      }
      waiting.splice(0, waiting.length, ...waiting.filter((x) => x.upTo > upTo))
    }
    running = false
  }
  return () => {
    const upTo = ++asked
    const p = new Promise<void>((resolve, reject) => waiting.push({ upTo, resolve, reject }))
    if (!running) void pump()
    return p
  }
}
