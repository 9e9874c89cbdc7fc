import { WeirError } from '../core/errors.js'
import { createRunHistory, type RunRecord } from '../scheduler/history.js'
import { createScheduler, type JobEvent, type JobSpec, type Scheduler } from '../scheduler/scheduler.js'
import { jobContext } from './jobs/context.js'
import { landJob } from './jobs/land-job.js'
import {
  alertsJob,
  maintainJob,
  modelsJob,
  refineJob,
  serveJob,
  sourceJobs,
  warehouseJob,
} from './jobs/stage-jobs.js'
import type { Pipeline } from './pipeline.js'

export const ROLES = ['ingest', 'landing', 'refine', 'models', 'warehouse', 'alerts', 'serve'] as const
export type Role = (typeof ROLES)[number]

export interface RunOptions {
  /** Run every job once, wait until the stream is drained and every stage has flushed, then return. */
  readonly once?: boolean
  /** Only these stages (for several processes sharing the work); all by default. */
  readonly roles?: readonly Role[]
  readonly onEvent?: (e: JobEvent) => void
}

export interface RunningPipeline {
  readonly scheduler: Scheduler
  /** With `once`: every run, when all are done. Otherwise resolves when stopped. */
  readonly done: Promise<readonly RunRecord[]>
  /** Roles asked for that have nothing to do with this config, one line each ("alerts: no alerts.rules"). */
  readonly idle: readonly string[]
}

/**
 * `weir run`: every job the config declares, in one process. Sources are pulled at start and on
 * their schedules; landing follows the stream and refines what each round wrote (micro-batches);
 * models build after each refine that wrote records, or on their own schedule. With `once`, each
 * stage runs once in order and the stream is drained.
 */
export function startRun(p: Pipeline, options: RunOptions = {}): RunningPipeline {
  const roles = new Set<Role>(options.roles?.length ? options.roles : ROLES)
  const history = createRunHistory(p.state)
  let scheduler: Scheduler | undefined
  const c = jobContext(p, options, roles, history, () => scheduler)
  const sources = Object.keys(p.config.sources)
  const has = (role: Role) => roles.has(role)
  const jobs: JobSpec[] = [
    ...(has('ingest') ? sourceJobs(c) : []),
    ...(has('landing') ? [landJob(c)] : []),
    ...(has('refine') && (!has('landing') || options.once) ? [refineJob(c)] : []),
    // Iceberg tables (the default) need their old snapshots expired (hourly, or last in a --once
    // run, so a cron of `weir run --once` keeps the lake tidy); for Parquet ones it does nothing.
    ...(has('refine') ? [maintainJob(c)] : []),
    ...(has('models') ? [modelsJob(c)] : []),
    ...(has('warehouse') && p.config.warehouse?.postgres ? [warehouseJob(c)] : []),
    ...(has('alerts') && Object.keys(p.config.alerts.rules).length ? [alertsJob(c)] : []),
    ...(has('serve') && Object.keys(p.config.serve.tables).length && !options.once ? [serveJob(c)] : []),
  ]
  const idle = [
    roles.has('ingest') && !sources.length ? 'ingest: the config has no sources' : '',
    roles.has('warehouse') && !p.config.warehouse?.postgres
      ? 'warehouse: the config has no warehouse.postgres'
      : '',
    roles.has('alerts') && !Object.keys(p.config.alerts.rules).length
      ? 'alerts: the config has no alerts.rules'
      : '',
    roles.has('serve') && !Object.keys(p.config.serve.tables).length && !options.once
      ? 'serve: the config has no serve.tables'
      : '',
  ].filter((l) => l && options.roles?.length)
  // A process with nothing to do must say so, not sit idle or exit 0 as if it had worked.
  if (!jobs.length)
    throw new WeirError(
      `nothing to run for --role ${[...roles].join(' ')}: ${idle.join('; ') || 'no jobs'}`,
      {
        code: 'RUN_NOTHING',
        stage: 'run',
      },
    )
  scheduler = createScheduler(jobs, { history, ...(options.onEvent ? { onEvent: options.onEvent } : {}) })
  const s = scheduler
  if (!options.once) {
    s.start()
    if (p.config.run.catchup) catchUp(jobs, history, s).catch(c.log)
    const done = new Promise<readonly RunRecord[]>((resolve) =>
      s.signal.addEventListener('abort', () => resolve([]), { once: true }),
    )
    return { scheduler: s, done, idle }
  }
  const done = (async () => {
    const runs: RunRecord[] = []
    const step = async (names: readonly string[]) => {
      const here = names.filter((n) => jobs.some((j) => j.name === n))
      runs.push(...(await Promise.all(here.map((n) => s.runNow(n, 'once')))))
    }
    await step(sources)
    if (!s.signal.aborted) await step(['land', 'alerts'])
    if (!s.signal.aborted) await step(['refine'])
    if (!s.signal.aborted) await step(['models'])
    if (!s.signal.aborted) await step(['warehouse'])
    if (!s.signal.aborted) await step(['maintain'])
    return runs
  })()
  return { scheduler: s, done, idle }
}

/**
 * Catch-up, when asked for: a scheduled job whose last run is older than its previous tick runs
 * once now. Never one run per missed tick: after a week off, an hourly job runs once, not 168 times.
 */
export async function catchUp(
  jobs: readonly JobSpec[],
  history: ReturnType<typeof createRunHistory>,
  s: Scheduler,
) {
  const now = new Date()
  for (const j of jobs) {
    if (!j.schedule || j.atStart) continue
    const [last] = await history.list({ job: j.name, limit: 1 })
    const due = last ? j.schedule.next(new Date(last.start)) : undefined
    if (due && due < now) s.runNow(j.name, 'catch-up').catch(() => undefined)
  }
}
