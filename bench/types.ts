/** One benchmark's figure and the baseline it is compared with, measured in the same run. */
export interface BenchResult {
  readonly name: string
  readonly unit: string
  readonly value: number
  readonly baseline: { readonly name: string; readonly value: number }
  /** value / baseline.value: for times, below 1 is faster than the baseline. */
  readonly ratio: number
  readonly notes: string
  readonly details?: Record<string, unknown>
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

export async function seconds(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now()
  await fn()
  return (performance.now() - t0) / 1000
}
