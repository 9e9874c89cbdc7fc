import { WeirError } from '../../core/errors.js'
import { whenAborted } from '../../core/time.js'
import { parseSchedule } from '../../scheduler/schedule.js'
import type { JobSpec } from '../../scheduler/scheduler.js'
import { isContinuousKind } from '../../sources/registry.js'
import { startServing } from '../serve.js'
import type { JobContext } from './context.js'

/**
 * Each source's pulls: at start (not with once, where they run in order) and on its schedule. A
 * long-lived source (a stream) is read for as long as the process runs, restarted with backoff if
 * it fails; with once, for its one-shot window.
 */
export function sourceJobs(c: JobContext): JobSpec[] {
  return Object.entries(c.p.config.sources).map(([name, cfg]) => {
    const follow = isContinuousKind(cfg.kind) && !c.options.once
    return {
      name,
      pool: `source:${name}`,
      ...(follow ? { continuous: true } : { atStart: !c.options.once, ...c.schedule(name) }),
      ...c.defaults(name),
      ...(follow ? { timeoutMs: 0 } : {}),
      run: async (signal: AbortSignal) =>
        c.stats(await c.p.ingest([name], signal, { backpressure: !c.options.once, follow })),
    }
  })
}

/**
 * Refine on its own (another process lands): on its schedule, every minute by default. Once:
 * after the landing, for what did not come through it (file sources land as they are).
 */
export function refineJob(c: JobContext): JobSpec {
  return {
    name: 'refine',
    atStart: !c.options.once,
    ...(c.options.once
      ? {}
      : { schedule: parseSchedule(c.cfg.jobs.refine?.schedule ?? 'rate(1 minute)', c.cfg.timeZone) }),
    ...c.defaults('refine'),
    run: async () => c.stats(await c.p.refine(undefined, { waitForLease: c.options.once === true })),
  }
}

/**
 * Iceberg maintenance, hourly unless the config says: snapshots past each table's retention expire
 * and the files no kept snapshot uses are deleted (`weir maintain`).
 */
export function maintainJob(c: JobContext): JobSpec {
  const own = c.schedule('maintain')
  return {
    name: 'maintain',
    ...own,
    ...(own.schedule ? {} : { schedule: parseSchedule('rate(1 hour)', c.cfg.timeZone) }),
    ...c.defaults('maintain'),
    run: async () => {
      const { maintainLake } = await import('../../catalog/iceberg/maintain.js')
      const done = await maintainLake(c.p.store)
      return { records: 0, files: done.reduce((n, r) => n + r.deleted, 0) }
    },
  }
}

/**
 * Models build after each refine of this process; a process without landing never sees one, so
 * there they build on a schedule of their own (every 5 minutes unless the config says). A failed
 * model or data test fails the run.
 */
export function modelsJob(c: JobContext): JobSpec {
  const own = c.schedule('models')
  const poll =
    !own.schedule && !c.roles.has('landing') && !c.options.once
      ? { schedule: parseSchedule('rate(5 minutes)', c.cfg.timeZone) }
      : {}
  return {
    name: 'models',
    ...own,
    ...poll,
    ...c.defaults('models'),
    run: async () => {
      const r = await c.p.models({ test: true })
      const failed = r.models.filter((m) => m.action === 'failed')
      const failing = r.tests.filter((t) => t.status === 'fail' || t.status === 'error')
      if (failed.length || failing.length || r.glue) {
        throw new WeirError(
          [
            ...failed.map((m) => m.error ?? m.model),
            ...(r.glue ? [r.glue] : []),
            ...failing.map((t) => `test ${t.name} ${t.status}: ${t.failures} failing rows (${t.where})`),
          ].join('; '),
          { code: 'MODEL_FAILED', stage: 'model' },
        )
      }
      const count = (s: string) => r.tests.filter((t) => t.status === s).length
      return {
        records: r.models.reduce((n, m) => n + m.rows, 0),
        files: r.models.reduce((n, m) => n + m.files, 0),
        summary: `${r.models.length} models (${r.models.filter((m) => m.action !== 'unchanged').length} built), tests: ${count('pass')} passed, ${count('warn')} warnings`,
      }
    },
  }
}

/** The refined tables go to PostgreSQL after each models run. */
export function warehouseJob(c: JobContext): JobSpec {
  return {
    name: 'warehouse',
    after: ['models'],
    ...c.defaults('warehouse'),
    run: async () => {
      const r = await c.p.loadPostgres()
      return { records: r.reduce((n, x) => n + x.changed, 0), files: r.length }
    },
  }
}

/** Alerts watch the stream as a consumer group of their own, beside the landing (once: read it all). */
export function alertsJob(c: JobContext): JobSpec {
  return {
    name: 'alerts',
    continuous: !c.options.once,
    ...c.defaults('alerts'),
    timeoutMs: c.options.once ? c.defaults('alerts').timeoutMs : 0,
    run: async (signal) => c.stats(await c.p.alerts(signal, !c.options.once)),
  }
}

/** The serving sink and the API, for as long as the process runs. */
export function serveJob(c: JobContext): JobSpec {
  return {
    name: 'serve',
    continuous: true,
    ...c.defaults('serve'),
    timeoutMs: 0,
    run: async (signal) => {
      const s = await startServing(c.p, { port: c.p.config.serve.port, host: c.p.config.serve.host })
      await whenAborted(signal)
      await s.close() // stops the sink (after the batch in hand) and the server
      return { records: (await s.sink).records, files: 0 }
    },
  }
}
