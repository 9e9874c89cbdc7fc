import { parseDuration } from '../../core/units.js'
import type { Pipeline } from '../../pipeline/pipeline.js'
import type { Role } from '../../pipeline/run.js'
import { createRunHistory } from '../../scheduler/history.js'
import type { JobEvent } from '../../scheduler/scheduler.js'
import { type GlobalOptions, withPipeline } from '../context.js'
import { log } from '../log.js'
import { type Format, renderRows } from '../output.js'

/**
 * `weir run [--once] [--role r ...]`: every job of the config in this process, one log line per job
 * event (readable on a terminal, JSON otherwise). SIGINT/SIGTERM stops taking work, lets running
 * jobs flush and commit within the grace period, and exits 0; a second signal exits at once.
 */
export async function runCommand(
  opts: { once?: boolean; role?: Role[] },
  globals: GlobalOptions,
): Promise<void> {
  const { startRun } = await import('../../pipeline/run.js')
  // A signal that comes while the config loads and the pipeline opens is kept for when the run
  // exists: without a listener yet, SIGTERM would kill the process instead of stopping it cleanly.
  let early: NodeJS.Signals | undefined
  const keep = (sig: NodeJS.Signals) => {
    if (early) process.exit(130)
    early = sig
  }
  process.on('SIGINT', keep)
  process.on('SIGTERM', keep)
  await withPipeline(globals, async (p: Pipeline) => {
    process.off('SIGINT', keep)
    process.off('SIGTERM', keep)
    const run = startRun(p, {
      once: opts.once ?? false,
      ...(opts.role ? { roles: opts.role } : {}),
      onEvent: logger(opts.once === true),
    })
    for (const line of run.idle) log().say('warn', `--role ${line}; nothing to do for it`)
    let signals = 0
    const onSignal = (sig: NodeJS.Signals) => {
      signals++
      if (signals > 1) {
        // Nothing acknowledged is lost: the stream keeps what was not committed.
        process.stderr.write(`weir: ${sig} again: exiting now\n`)
        process.exit(130)
      }
      process.stderr.write(
        `weir: ${sig}: finishing running jobs (up to ${p.config.run.grace}); ${sig === 'SIGINT' ? 'Ctrl+C' : sig} again exits at once\n`,
      )
      const grace = parseDuration(p.config.run.grace)
      // The grace is a promise to whoever sent the signal (a supervisor kills after its own): a job
      // that does not stop in time is left (nothing acknowledged is lost), and the process exits.
      setTimeout(() => {
        process.stderr.write(
          `weir: the grace period (${p.config.run.grace}) ended with jobs still running; exiting (they resume from their last commit)\n`,
        )
        process.exit(1)
      }, grace + 800).unref()
      run.scheduler.stop(grace).catch(() => undefined)
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    if (early) onSignal(early)
    try {
      const runs = await run.done
      if (!opts.once) await run.scheduler.stop(parseDuration(p.config.run.grace))
      // Anything left undone says so, in one line each, and in the exit code: failed, skipped, and
      // (with --once, unless the user stopped it) partial, such as a source out of request budget.
      const undone = runs.filter(
        (r) =>
          r.outcome === 'failed' || r.outcome === 'skipped' || (r.outcome === 'partial' && signals === 0),
      )
      for (const r of undone) log().say('error', `${r.job} ${r.outcome}: ${r.error ?? ''}`)
      if (undone.length) process.exitCode = 1
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }).finally(() => {
    process.off('SIGINT', keep)
    process.off('SIGTERM', keep)
  })
}

/**
 * One line per job event: JSON for programs; on a terminal, what starts and ends, with durations,
 * what landing and refine did as they did it, the tests after models, and when each scheduled job
 * runs next.
 */
function logger(once: boolean): (e: JobEvent) => void {
  return (event) => {
    // A single pass has no next run.
    const e: JobEvent = once
      ? (Object.fromEntries(Object.entries(event).filter(([k]) => k !== 'next')) as JobEvent)
      : event
    const l = log()
    const level =
      e.event === 'failed' ? 'error' : e.event === 'retrying' || e.event === 'restarting' ? 'warn' : 'info'
    // Milliseconds are enough, and a line reads better without 0.32452548200000003.
    const seconds = e.seconds !== undefined ? { seconds: Math.round(e.seconds * 1000) / 1000 } : {}
    const text = textLine(e)
    l.event({ ...e, ...seconds }, text, level)
  }
}

const clock = (iso: string | Date) => new Date(iso).toTimeString().slice(0, 8)

function textLine(e: JobEvent): string {
  const n = (x: number) => x.toLocaleString('en-US')
  const parts = [
    clock(new Date()),
    e.job.padEnd(12),
    e.event.padEnd(10),
    e.records !== undefined ? `${n(e.records)} records` : '',
    e.files !== undefined ? `${n(e.files)} files` : '',
    e.seconds !== undefined ? duration(e.seconds) : '',
    e.attempt && e.attempt > 1 ? `attempt ${e.attempt}` : '',
    e.delayMs !== undefined ? `retry in ${duration(e.delayMs / 1000)}` : '',
    e.trigger && e.event !== 'scheduled' ? `(${e.trigger})` : '',
    e.summary ?? '',
    e.error ? `${e.event === 'failed' ? 'error' : 'note'}: ${e.error}` : '',
    e.next ? `next ${clock(e.next)}${e.event === 'scheduled' && e.trigger ? ` (${e.trigger})` : ''}` : '',
  ]
  return parts.filter(Boolean).join('  ')
}

/** `0.31 s`, `12.4 s`, `3 min 05 s`: enough to read, no more. */
function duration(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(2)} s`
  if (seconds < 60) return `${seconds.toFixed(1)} s`
  const m = Math.floor(seconds / 60)
  return `${m} min ${String(Math.round(seconds % 60)).padStart(2, '0')} s`
}

/** `weir runs [--job j] [--failed] [--limit n]`: the run history, newest first. */
export async function runsCommand(
  opts: { job?: string; failed?: boolean; limit: number; format: Format },
  globals: GlobalOptions,
): Promise<void> {
  await withPipeline(globals, async (p) => {
    const runs = await createRunHistory(p.state).list({
      ...(opts.job ? { job: opts.job } : {}),
      ...(opts.failed ? { failed: true } : {}),
      limit: opts.limit,
    })
    if (opts.format === 'json') {
      process.stdout.write(`${JSON.stringify(runs)}\n`)
      return
    }
    const columns = ['job', 'start', 'end', 'outcome', 'attempts', 'records', 'files', 'error'].map(
      (name) => ({
        name,
        type: '',
      }),
    )
    const rows = runs.map((r) => ({
      job: r.job,
      start: r.start,
      end: r.end,
      outcome: r.outcome,
      attempts: r.attempts,
      records: r.records,
      files: r.files,
      error: r.error ?? null,
    }))
    process.stdout.write(`${rows.length ? renderRows({ columns, rows }, 'table') : '(no runs yet)'}\n`)
  })
}

/** `weir backfill <source> --from --to [--dry-run]`: one run of the source per window, resumable. */
export async function backfillCommand(
  source: string,
  opts: { from: string; to: string; dryRun?: boolean },
  globals: GlobalOptions,
): Promise<void> {
  const { backfill } = await import('../../pipeline/backfill.js')
  const { endProgress, interruption } = await import('../context.js')
  const signal = interruption()
  await withPipeline(
    globals,
    async (p) => {
      const windows = await backfill(
        p,
        source,
        { from: opts.from, to: opts.to },
        {
          ...(opts.dryRun ? { dryRun: true } : {}),
          signal,
        },
      )
      const columns = ['start', 'end', 'status', 'records', 'params'].map((name) => ({ name, type: '' }))
      const rows = windows.map((w) => ({
        start: w.start,
        end: w.end,
        status: w.status,
        records: w.records ?? null,
        params: Object.entries(w.params)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
      }))
      endProgress()
      process.stdout.write(`${renderRows({ columns, rows }, 'table')}\n`)
      const failed = windows.find((w) => w.status === 'failed')
      if (failed) {
        process.stderr.write(
          `weir: backfill window ${failed.start}..${failed.end} failed: ${failed.error}; run the same command again to resume\n`,
        )
        process.exitCode = 1
      }
      if (signal.aborted) process.exitCode = 130
    },
    { progress: true },
  )
}
