import { WeirError } from '../../core/errors.js'
import { sleep } from '../../core/time.js'
import { parseDuration } from '../../core/units.js'
import type { SourceState } from '../source.js'

interface Saved {
  readonly window: number
  readonly used: number
}

/** Requests allowed per fixed window, counted across runs. */
export interface Budget {
  /**
   * Counts one request. When none is left, waits for the next window if it starts within `maxWaitMs`
   * (pacing, e.g. 40 per second), else throws SOURCE_BUDGET_EXHAUSTED: a partial run, not a failure.
   */
  take(maxWaitMs?: number, signal?: AbortSignal): Promise<void>
  /** Remembers the count, so a restart in the same window does not burst. */
  save(): Promise<void>
  /** When the current window ends (ms since the epoch). */
  readonly resetsAt: number
}

/**
 * A proactive request budget (e.g. 450 per 15 minutes), in fixed windows aligned to the epoch like
 * X's own, persisted in the source's state every few requests and at the end of a run.
 */
export async function loadBudget(
  source: string,
  state: SourceState,
  config: { readonly requests: number; readonly per: string | number } | undefined,
  now: () => number = Date.now,
): Promise<Budget> {
  if (!config) return { take: async () => {}, save: async () => {}, resetsAt: 0 }
  const per = parseDuration(config.per)
  const window = () => Math.floor(now() / per)
  const saved = await state.get<Saved>('budget')
  let current = window()
  let used = saved && saved.window === current ? saved.used : 0
  let unsaved = 0
  const budget: Budget = {
    async take(maxWaitMs = 0, signal) {
      for (;;) {
        const w = window()
        if (w !== current) {
          current = w
          used = 0
        }
        if (used < config.requests) break
        const wait = (current + 1) * per - now()
        if (wait > maxWaitMs) {
          const at = new Date((current + 1) * per).toISOString()
          throw new WeirError(
            `source ${source}: request budget of ${config.requests} per ${config.per} used up; the run is partial and resumes after ${at}`,
            { code: 'SOURCE_BUDGET_EXHAUSTED', stage: 'source' },
          )
        }
        await sleep(Math.max(1, wait))
        signal?.throwIfAborted()
      }
      used++
      // Saving every request would double the calls to a remote lake; every ten bounds the loss on a crash.
      if (++unsaved >= 10) {
        unsaved = 0
        state.put('budget', { window: current, used } satisfies Saved).catch(() => {
          unsaved = 10 // the lake failed: try again at the next request
        })
      }
    },
    async save() {
      await state.put('budget', { window: current, used } satisfies Saved)
    },
    get resetsAt() {
      return (current + 1) * per
    },
  }
  return budget
}
