import { errorMessage } from '../../core/errors.js'
import { parseDuration } from '../../core/units.js'
import type { createRunHistory } from '../../scheduler/history.js'
import { parseSchedule } from '../../scheduler/schedule.js'
import type { JobStats, Scheduler } from '../../scheduler/scheduler.js'
import type { Pipeline, StageSummary } from '../pipeline.js'
import type { Role, RunOptions } from '../run.js'

/** What building `weir run`'s jobs needs: the pipeline, the roles and options, and the job settings of the config. */
export interface JobContext {
  readonly p: Pipeline
  readonly options: RunOptions
  readonly roles: ReadonlySet<Role>
  readonly cfg: Pipeline['config']['run']
  readonly history: ReturnType<typeof createRunHistory>
  /** The scheduler, once made (jobs that trigger others ask it at run time). */
  scheduler(): Scheduler | undefined
  /** A job's retries, retry delay and timeout: its own, else run's. */
  defaults(name: string): { retries: number; retryDelayMs: number; timeoutMs: number }
  /** A job's schedule and `after` from the config. */
  schedule(name: string): { schedule?: ReturnType<typeof parseSchedule>; after?: string[] }
  stats(s: StageSummary): JobStats
  /** Reports a failure to record a run, which must not fail the job. */
  log(err: unknown): void
}

export function jobContext(
  p: Pipeline,
  options: RunOptions,
  roles: ReadonlySet<Role>,
  history: ReturnType<typeof createRunHistory>,
  scheduler: () => Scheduler | undefined,
): JobContext {
  const cfg = p.config.run
  return {
    p,
    options,
    roles,
    cfg,
    history,
    scheduler,
    defaults: (name) => ({
      retries: cfg.jobs[name]?.retries ?? cfg.retries,
      retryDelayMs: parseDuration(cfg.retryDelay),
      timeoutMs: parseDuration(cfg.jobs[name]?.timeout ?? cfg.timeout),
    }),
    schedule: (name) => {
      const text = cfg.jobs[name]?.schedule
      const after = cfg.jobs[name]?.after
      return {
        ...(text ? { schedule: parseSchedule(text, cfg.timeZone) } : {}),
        ...(after?.length ? { after } : {}),
      }
    },
    stats: (s) => ({
      records: s.records,
      files: s.files,
      ...(s.outcome ? { outcome: s.outcome } : {}),
      ...(s.reason ? { note: s.reason } : {}),
    }),
    log: (err) =>
      options.onEvent?.({
        job: 'history',
        event: 'failed',
        error: `cannot record a run: ${errorMessage(err)}`,
      }),
  }
}
