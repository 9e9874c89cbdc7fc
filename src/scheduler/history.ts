import type { StateStore } from '../state/state.js'

/** One run of one job, as `weir runs` shows it. */
export interface RunRecord {
  readonly id: string
  readonly job: string
  readonly start: string
  readonly end: string
  /**
   * `partial`: stopped before the end (a rate limit, a stop), resumes next run; `skipped`: not run
   * (still running, or another process holds the work). Neither is a success.
   */
  readonly outcome: 'succeeded' | 'partial' | 'failed' | 'skipped'
  /** Attempts made (1 + retries used). */
  readonly attempts: number
  readonly records: number
  readonly files: number
  /** Why it failed (the last attempt's error), or why it was skipped. */
  readonly error?: string
  /** What triggered it: its schedule, the jobs it runs after, --once, a backfill window. */
  readonly trigger?: string
}

const KEEP = 200

/**
 * Run history in the lake's state (`_state/runs/<job>.json`, the newest 200 runs per job), so it
 * survives restarts and travels with a lake on S3.
 */
export function createRunHistory(state: StateStore) {
  const doc = (job: string) => `runs/${job.replace(/[^A-Za-z0-9_.-]/g, '_')}`
  // Records of one job are appended in order by one writer: a queue per job keeps them so.
  const queues = new Map<string, Promise<void>>()
  return {
    async record(r: RunRecord): Promise<void> {
      const prev = queues.get(r.job) ?? Promise.resolve()
      const next = prev.then(async () => {
        const runs = (await state.get<{ runs: RunRecord[] }>(doc(r.job)))?.runs ?? []
        await state.put(doc(r.job), { runs: [...runs, r].slice(-KEEP) })
      })
      queues.set(
        r.job,
        next.catch(() => undefined),
      )
      await next
    },
    /** Newest first; every job's unless `job` is given. */
    async list(options: { job?: string; failed?: boolean; limit?: number } = {}): Promise<RunRecord[]> {
      const names = options.job ? [doc(options.job)] : await state.list('runs')
      const all: RunRecord[] = []
      for (const n of names) all.push(...((await state.get<{ runs: RunRecord[] }>(n))?.runs ?? []))
      return all
        .filter((r) => !options.failed || r.outcome === 'failed')
        .sort((a, b) => b.start.localeCompare(a.start))
        .slice(0, options.limit ?? 50)
    },
  }
}

export type RunHistory = ReturnType<typeof createRunHistory>
