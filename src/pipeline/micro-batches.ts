import { errorMessage } from '../core/errors.js'
import type { RefineResult } from '../refine/refine.js'

/**
 * Refine runs for the tables landing rounds wrote to, one at a time: tables that arrive while one
 * runs are taken by the next. A failure is kept (the ledger did not move, so the files are retried
 * by the next run) rather than stopping the landing.
 */
export function microBatches(
  run: (only: readonly string[]) => Promise<readonly RefineResult[]>,
  onRun?: (run: { results: readonly RefineResult[]; seconds: number; error?: unknown }) => void,
) {
  const dirty = new Set<string>()
  const totals = { runs: 0, records: 0, files: 0, failures: [] as string[] }
  let running: Promise<void> | undefined
  const kick = () => {
    if (running) return
    running = (async () => {
      while (dirty.size) {
        const only = [...dirty]
        dirty.clear()
        const t0 = performance.now()
        try {
          const results = await run(only)
          totals.runs++
          totals.records += sum(results.map((r) => r.records))
          totals.files += sum(results.map((r) => r.files))
          onRun?.({ results, seconds: (performance.now() - t0) / 1000 })
        } catch (err) {
          totals.failures.push(errorMessage(err))
          onRun?.({ results: [], seconds: (performance.now() - t0) / 1000, error: err })
        }
      }
    })().finally(() => {
      running = undefined
      if (dirty.size) kick()
    })
  }
  return {
    add(tables: readonly string[]) {
      for (const t of tables) dirty.add(t)
      kick()
    },
    async finish() {
      while (running) await running
      return totals
    },
  }
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0)
}
