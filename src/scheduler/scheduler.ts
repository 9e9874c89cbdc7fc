import { errorMessage, WeirError } from '../core/errors.js'
import { sleep } from '../core/time.js'
import { backoff, RESTART_CAP_MS, runOnce, runRecord, skipped } from './attempt.js'
import type { RunHistory, RunRecord } from './history.js'
import type { Schedule } from './schedule.js'

/** What a job's run did, in the units every stage shares. */
export interface JobStats {
  readonly records: number
  readonly files: number
  /**
   * Set when the run did not do all it was asked: `partial` (stopped early, resumes next run: a
   * rate limit, a stop), `skipped` (another process holds the work) or `failed` (it ran, and what it
   * could not do will not be done by running again). The run is recorded so, and not retried.
   */
  readonly outcome?: 'partial' | 'skipped' | 'failed'
  /** Why, in one line. */
  readonly note?: string
  /** What a person reading the log wants to know of a run that went well (`tests: 12 passed`). */
  readonly summary?: string
}

export interface JobSpec {
  readonly name: string
  readonly schedule?: Schedule
  /** Run after each successful run of any of these jobs (a run triggered while it runs is queued once). */
  readonly after?: readonly string[]
  /** Run once when the scheduler starts. */
  readonly atStart?: boolean
  /** A job that runs until stopped (a stream consumer): restarted with backoff if it fails. */
  readonly continuous?: boolean
  readonly retries: number
  readonly retryDelayMs: number
  readonly timeoutMs?: number
  /** Jobs of one pool run one at a time (a source's scheduled pulls and its backfill). */
  readonly pool?: string
  run(signal: AbortSignal): Promise<JobStats>
}

export interface JobEvent {
  readonly job: string
  readonly event:
    | 'started'
    | 'succeeded'
    | 'partial'
    | 'failed'
    | 'retrying'
    | 'restarting'
    | 'skipped'
    | 'scheduled'
    | 'landed'
  readonly attempt?: number
  readonly records?: number
  readonly files?: number
  readonly seconds?: number
  readonly error?: string
  readonly delayMs?: number
  readonly trigger?: string
  /** When a scheduled job runs next (ISO time). */
  readonly next?: string
  readonly summary?: string
}

/**
 * Runs jobs on their schedules, after the jobs they depend on, or when asked; never two runs of
 * one job at once (a tick that finds it running is recorded as skipped); failures retried with
 * exponential backoff and jitter, each run recorded in the history. `stop` stops taking work, asks
 * running jobs to finish (their signal aborts) and waits for them up to a grace period.
 *
 * @example
 * const s = createScheduler([{ name: 'x', schedule: parseSchedule('rate(5 minutes)'), retries: 2, retryDelayMs: 1000, run }], { history })
 * s.start()
 */
export function createScheduler(
  jobs: readonly JobSpec[],
  options: { readonly history: RunHistory; readonly onEvent?: (e: JobEvent) => void },
): Scheduler {
  const byName = new Map(jobs.map((j) => [j.name, j]))
  const running = new Map<string, Promise<RunRecord>>()
  const queued = new Map<string, string>()
  const pools = new Map<string, Promise<unknown>>()
  const timers = new Set<NodeJS.Timeout>()
  const stopper = new AbortController()
  const emit = (e: JobEvent) => options.onEvent?.(e)
  const nextRun = (job: JobSpec) => {
    const at = stopper.signal.aborted ? undefined : job.schedule?.next(new Date())
    return at ? { next: at.toISOString() } : {}
  }
  let pending = 0
  let idleWaiters: (() => void)[] = []
  const settle = () => {
    if (pending === 0 && running.size === 0) for (const w of idleWaiters.splice(0)) w()
  }

  async function attempt(job: JobSpec, trigger: string): Promise<RunRecord> {
    const start = new Date()
    let attempts = 0
    let last: unknown
    for (;;) {
      attempts++
      emit({ job: job.name, event: 'started', attempt: attempts, trigger })
      const t0 = performance.now()
      try {
        const stats = await runOnce(job, stopper.signal)
        const seconds = (performance.now() - t0) / 1000
        const outcome = stats.outcome ?? 'succeeded'
        const note = stats.note ? { error: stats.note } : {}
        emit({
          job: job.name,
          event: outcome,
          attempt: attempts,
          records: stats.records,
          files: stats.files,
          seconds,
          ...note,
          ...(stats.summary ? { summary: stats.summary } : {}),
          ...nextRun(job),
        })
        return runRecord(job.name, trigger, start, attempts, outcome, stats, stats.note)
      } catch (err) {
        last = err
        // The retry asks the error only: a Weir error says whether trying again can help (a config
        // mistake, a model's SQL, a refused request fail the same way every time); anything else
        // (a library's own error) gets the job's retries, since the job resumes from its checkpoint.
        const fatal = err instanceof WeirError && !err.retryable
        if (attempts > job.retries || fatal || stopper.signal.aborted) break
        const delayMs = backoff(job.retryDelayMs, attempts)
        emit({ job: job.name, event: 'retrying', attempt: attempts, error: errorMessage(err), delayMs })
        await sleep(delayMs, stopper.signal)
      }
    }
    const error = errorMessage(last).replace(/\s*\n\s*/g, ' ')
    emit({ job: job.name, event: 'failed', attempt: attempts, error, ...nextRun(job) })
    return runRecord(job.name, trigger, start, attempts, 'failed', { records: 0, files: 0 }, error)
  }

  /** Runs a job now (after its pool frees), with retries, and records the run. */
  function runNow(name: string, trigger = 'manual'): Promise<RunRecord> {
    const job = byName.get(name)
    if (!job) throw new Error(`no job ${name}`)
    const inFlight = running.get(name)
    if (inFlight) return inFlight
    if (stopper.signal.aborted) return Promise.resolve(skipped(name, trigger, 'stopping'))
    const pool = job.pool ?? `job:${name}`
    const before = pools.get(pool) ?? Promise.resolve()
    const run = before.then(async () => {
      for (let restarts = 0; ; restarts++) {
        const record = await attempt(job, trigger)
        await options.history.record(record).catch(() => undefined)
        // A consumer that failed past its retries is restarted, with backoff, for as long as the
        // process runs: landing must come back by itself once the disk or the lake does.
        if (!job.continuous || record.outcome !== 'failed' || stopper.signal.aborted) return record
        // Capped low: once the disk or the lake is back, a consumer should be too, within seconds.
        const delayMs = Math.min(RESTART_CAP_MS, backoff(job.retryDelayMs, restarts + job.retries + 1))
        emit({ job: job.name, event: 'restarting', error: record.error ?? '', delayMs })
        await sleep(delayMs, stopper.signal)
        if (stopper.signal.aborted) return record
      }
    })
    pools.set(
      pool,
      run.catch(() => undefined),
    )
    running.set(name, run)
    const after = (r: RunRecord) => {
      if (r.outcome !== 'succeeded' || stopper.signal.aborted) return
      for (const j of jobs) if (j.after?.includes(name)) background(trigger_(j.name, `after ${name}`))
    }
    run
      .then(after, () => undefined)
      .finally(() => {
        running.delete(name)
        const again = queued.get(name)
        if (again !== undefined && !stopper.signal.aborted) {
          queued.delete(name)
          background(trigger_(name, again))
        }
        settle()
      })
      .catch(() => undefined)
    return run
  }

  /** A trigger nobody waits for: its failure (the history or a hook failing) must not end the process. */
  function background(p: Promise<unknown>): void {
    p.catch((err: unknown) => emit({ job: 'scheduler', event: 'failed', error: errorMessage(err) }))
  }

  /** A trigger: runs the job unless it is running (a schedule tick is then skipped; a dependency's is queued). */
  async function trigger_(name: string, why: string): Promise<void> {
    if (stopper.signal.aborted) return
    pending++
    try {
      if (running.has(name)) {
        if (why.startsWith('after ')) queued.set(name, why)
        else {
          emit({ job: name, event: 'skipped', trigger: why })
          await options.history
            .record(skipped(name, why, 'the previous run was still running'))
            .catch(() => undefined)
        }
        return
      }
      await runNow(name, why)
    } finally {
      pending--
      settle()
    }
  }

  function arm(job: JobSpec, from: Date, at = job.schedule?.next(from)): void {
    if (!at || stopper.signal.aborted) return
    const wait = at.getTime() - Date.now()
    // setTimeout holds at most 2^31-1 ms (about 24.8 days); a later tick waits in steps.
    const step = Math.min(Math.max(0, wait), 2 ** 31 - 1)
    const t = setTimeout(() => {
      timers.delete(t)
      if (step < wait) return arm(job, from, at)
      arm(job, at)
      background(trigger_(job.name, `schedule ${job.schedule!.text}`))
    }, step)
    timers.add(t)
  }

  return {
    signal: stopper.signal,
    runNow,
    /** Arms the schedules (catch-up off: the first tick is the next one from now) and starts the rest. */
    start(): void {
      const now = new Date()
      for (const j of jobs) {
        if (j.schedule) {
          arm(j, now)
          emit({ job: j.name, event: 'scheduled', trigger: j.schedule.text, ...nextRun(j) })
        }
        if (j.atStart || j.continuous) background(trigger_(j.name, j.continuous ? 'continuous' : 'at start'))
      }
    },
    /** Resolves when no run is in flight or waiting. */
    idle(): Promise<void> {
      return new Promise((resolve) => {
        idleWaiters.push(resolve)
        settle()
      })
    },
    /** Stops taking work, asks running jobs to finish, and waits for them up to `graceMs`. */
    async stop(graceMs: number): Promise<boolean> {
      for (const t of timers) clearTimeout(t)
      timers.clear()
      stopper.abort(new WeirError('stopping', { code: 'STOPPING', stage: 'run' }))
      const all = Promise.all([...running.values()]).then(() => true)
      const grace = new Promise<boolean>((r) => setTimeout(() => r(false), graceMs).unref())
      const done = await Promise.race([all, grace])
      idleWaiters = []
      return done
    },
  }
}

export interface Scheduler {
  /** Aborted once `stop` is called. */
  readonly signal: AbortSignal
  /** Runs a job now (after its pool frees), with retries, and records the run. */
  runNow(name: string, trigger?: string): Promise<RunRecord>
  /** Arms the schedules (catch-up off: the first tick is the next one from now) and starts the rest. */
  start(): void
  /** Resolves when no run is in flight or waiting. */
  idle(): Promise<void>
  /** Stops taking work, asks running jobs to finish, and waits for them up to `graceMs`; false if some did not. */
  stop(graceMs: number): Promise<boolean>
}
