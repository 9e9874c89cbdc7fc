import { randomUUID } from 'node:crypto'
import { errorMessage } from '../../core/errors.js'
import type { RefineResult } from '../../refine/refine.js'
import type { JobSpec } from '../../scheduler/scheduler.js'
import { sharedLanding } from '../share.js'
import type { JobContext } from './context.js'

/**
 * The landing: a consumer of the stream for as long as the process runs (once: until drained),
 * refining each round it wrote when this process also has the refine role. On NATS, processes
 * running the landing role share its partitions (a lease each).
 */
export function landJob(c: JobContext): JobSpec {
  const { p, options } = c
  const refineInLanding = c.roles.has('refine') && c.roles.has('landing')
  return {
    name: 'land',
    continuous: !options.once,
    ...c.defaults('land'),
    // A consumer runs until stopped: its timeout is not the batch jobs'.
    timeoutMs: options.once ? c.defaults('land').timeoutMs : 0,
    run: async (signal) => {
      const landed = everyFewSeconds((r) => options.onEvent?.({ job: 'land', event: 'landed', ...r }))
      const landWith = async (
        sig: AbortSignal,
        partitions?: (topic: string, all: readonly string[]) => Promise<readonly string[]>,
      ) =>
        c.stats(
          await p.land(sig, !options.once, {
            ...(partitions ? { partitions } : {}),
            refine: refineInLanding,
            onRefine: (run) => recordRefine(c, run),
            onLanded: landed,
          }),
        )
      return p.config.stream.kind === 'nats' && !options.once
        ? sharedLanding(p, signal, landWith)
        : landWith(signal)
    },
  }
}

/**
 * What landing wrote, said at most every 5 s (the first round at once): a line per round of files
 * would scroll a terminal by faster than anyone reads it.
 */
function everyFewSeconds(say: (r: { records: number; files: number }) => void) {
  let last = 0
  const since = { records: 0, files: 0 }
  return (round: { readonly records: number; readonly files: number }) => {
    since.records += round.records
    since.files += round.files
    if (Date.now() - last < 5_000) return
    last = Date.now()
    say({ ...since })
    since.records = 0
    since.files = 0
  }
}

/** A micro-batch refine: a run in the history, an event for the caller, and the models started when it wrote records. */
function recordRefine(
  c: JobContext,
  { results, seconds, error }: { results: readonly RefineResult[]; seconds: number; error?: unknown },
): void {
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
  c.history
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
    .catch(c.log)
  c.options.onEvent?.({ job: 'refine', event: outcome, records, seconds, ...(why ? { error: why } : {}) })
  if (records > 0 && c.roles.has('models') && !c.options.once && !c.cfg.jobs.models?.schedule)
    c.scheduler()?.runNow('models', 'after refine').catch(c.log)
}
