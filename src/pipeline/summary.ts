/** Runs `fn` and says how long it took, in seconds (a stage summary's unit). */
export async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now()
  const out = await fn()
  return [out, (performance.now() - t0) / 1000]
}

export function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0)
}
