import { randomUUID } from 'node:crypto'
import { errorMessage, WeirError } from '../core/errors.js'
import { parseDuration } from '../core/units.js'
import { createRunHistory, type RunRecord } from '../scheduler/history.js'
import { parseSchedule } from '../scheduler/schedule.js'
import {
  createScheduler,
  type JobEvent,
  type JobSpec,
  type JobStats,
  type Scheduler,
} from '../scheduler/scheduler.js'
import type { Pipeline, StageSummary } from './pipeline.js'
import { startServing } from './serve.js'
import { sharedLanding } from './share.js'

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
  const cfg = p.config.run
  const roles = new Set<Role>(options.roles?.length ? options.roles : ROLES)
  const history = createRunHistory(p.state)
  const defaults = (name: string) => ({
    retries: cfg.jobs[name]?.retries ?? cfg.retries,
    retryDelayMs: parseDuration(cfg.retryDelay),
    timeoutMs: parseDuration(cfg.jobs[name]?.timeout ?? cfg.timeout),
  })
  const schedule = (name: string) => {
    const text = cfg.jobs[name]?.schedule
    const after = cfg.jobs[name]?.after
    return {
      ...(text ? { schedule: parseSchedule(text, cfg.timeZone) } : {}),
      ...(after?.length ? { after } : {}),
    }
  }
  const stats = (s: StageSummary): JobStats => ({
    records: s.records,
    files: s.files,
    ...(s.outcome ? { outcome: s.outcome } : {}),
    ...(s.reason ? { note: s.reason } : {}),
  })
  const log = (err: unknown) =>
    options.onEvent?.({ job: 'history', event: 'failed', error: `cannot record a run: ${errorMessage(err)}` })
  const sources = Object.keys(p.config.sources)
  let scheduler: Scheduler | undefined
  const models = p.models
  const jobs: JobSpec[] = []

  if (roles.has('ingest')) {
    for (const name of sources) {
      jobs.push({
        name,
        pool: `source:${name}`,
        atStart: !options.once,
        ...schedule(name),
        ...defaults(name),
        run: async (signal) => stats(await p.ingest([name], signal, { backpressure: !options.once })),
      })
    }
  }
  const refineInLanding = roles.has('refine') && roles.has('landing')
  if (roles.has('landing')) {
    jobs.push({
      name: 'land',
      continuous: !options.once,
      ...defaults('land'),
      // A consumer runs until stopped: its timeout is not the batch jobs'.
      timeoutMs: options.once ? defaults('land').timeoutMs : 0,
      run: async (signal) => {
        const landWith = async (
          sig: AbortSignal,
          partitions?: (topic: string, all: readonly string[]) => Promise<readonly string[]>,
        ) =>
          stats(
            await p.land(sig, !options.once, {
              ...(partitions ? { partitions } : {}),
              refine: refineInLanding,
              onRefine: ({ results, seconds, error }) => {
                const records = results.reduce((n, r) => n + r.records, 0)
                const end = new Date()
                const skipped = results.filter((r) => r.skipped).map((r) => `${r.table}: ${r.skipped}`)
                const outcome = error
                  ? 'failed'
                  : skipped.length === 0
                    ? 'succeeded'
                    : skipped.length === results.length
                      ? 'skipped'
                      : 'partial'
                const why = error ? errorMessage(error) : skipped.join('; ')
                history
                  .record({
                    id: randomUUID(),
                    job: 'refine',
                    start: new Date(end.getTime() - seconds * 1000).toISOString(),
                    end: end.toISOString(),
                    outcome,
                    attempts: 1,
                    records,
                    files: results.reduce((n, r) => n + r.files, 0),
                    trigger: 'after land',
                    ...(why ? { error: why } : {}),
                  })
                  .catch(log)
                options.onEvent?.({
                  job: 'refine',
                  event: outcome,
                  records,
                  seconds,
                  ...(why ? { error: why } : {}),
                })
                if (records > 0 && roles.has('models') && !options.once && !cfg.jobs.models?.schedule)
                  scheduler?.runNow('models', 'after refine').catch(log)
              },
            }),
          )
        // On NATS, processes running the landing role share its partitions (a lease each).
        return p.config.stream.kind === 'nats' && !options.once
          ? sharedLanding(p, signal, landWith)
          : landWith(signal)
      },
    })
  }
  if (roles.has('refine') && (!refineInLanding || options.once)) {
    // Refine on its own (another process lands): on its schedule, every minute by default. Once:
    // after the landing, for what did not come through it (files sources land as they are).
    jobs.push({
      name: 'refine',
      atStart: !options.once,
      ...(options.once
        ? {}
        : { schedule: parseSchedule(cfg.jobs.refine?.schedule ?? 'rate(1 minute)', cfg.timeZone) }),
      ...defaults('refine'),
      run: async () => stats(await p.refine(undefined, { waitForLease: options.once === true })),
    })
  }
  if (roles.has('models')) {
    // Models build after each refine of this process; a process without landing never sees one, so
    // there they build on a schedule of their own (every 5 minutes unless the config says).
    const own = schedule('models')
    const poll =
      !own.schedule && !roles.has('landing') && !options.once
        ? { schedule: parseSchedule('rate(5 minutes)', cfg.timeZone) }
        : {}
    jobs.push({
      name: 'models',
      ...own,
      ...poll,
      ...defaults('models'),
      run: async () => {
        const r = await models({ test: true })
        const failed = r.models.filter((m) => m.action === 'failed')
        const failing = r.tests.filter((t) => t.status === 'fail' || t.status === 'error')
        if (failed.length || failing.length) {
          throw new WeirError(
            [
              ...failed.map((m) => m.error ?? m.model),
              ...failing.map((t) => `test ${t.name} ${t.status}: ${t.failures} failing rows (${t.where})`),
            ].join('; '),
            { code: 'MODEL_FAILED', stage: 'model' },
          )
        }
        return {
          records: r.models.reduce((n, m) => n + m.rows, 0),
          files: r.models.reduce((n, m) => n + m.files, 0),
        }
      },
    })
  }

  if (roles.has('warehouse') && p.config.warehouse?.postgres) {
    // The refined tables go to PostgreSQL after each models run.
    jobs.push({
      name: 'warehouse',
      after: ['models'],
      ...defaults('warehouse'),
      run: async () => {
        const r = await p.loadPostgres()
        return { records: r.reduce((n, x) => n + x.changed, 0), files: r.length }
      },
    })
  }
  if (roles.has('alerts') && Object.keys(p.config.alerts.rules).length) {
    // Alerts watch the stream as a consumer group of their own, beside the landing (once: read it all).
    jobs.push({
      name: 'alerts',
      continuous: !options.once,
      ...defaults('alerts'),
      timeoutMs: options.once ? defaults('alerts').timeoutMs : 0,
      run: async (signal) => stats(await p.alerts(signal, !options.once)),
    })
  }
  if (roles.has('serve') && Object.keys(p.config.serve.tables).length && !options.once) {
    // The serving sink and the API, for as long as the process runs.
    jobs.push({
      name: 'serve',
      continuous: true,
      ...defaults('serve'),
      timeoutMs: 0,
      run: async (signal) => {
        const s = await startServing(p, { port: p.config.serve.port, host: p.config.serve.host })
        await new Promise<void>((r) =>
          signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true }),
        )
        await s.close() // stops the sink (after the batch in hand) and the server
        return { records: (await s.sink).records, files: 0 }
      },
    })
  }
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
    if (cfg.catchup) catchUp(jobs, history, s).catch(log)
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
