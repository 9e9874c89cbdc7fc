import { randomUUID } from 'node:crypto'
import { WeirError } from '../core/errors.js'
import { onAbort } from '../core/time.js'
import type { RunRecord } from './history.js'
import type { JobSpec, JobStats } from './scheduler.js'

/**
 * One attempt of a job: its signal aborts when the scheduler stops or the job's timeout passes, and
 * a job that ignores its signal still ends at its timeout.
 */
export async function runOnce(job: JobSpec, stopping: AbortSignal): Promise<JobStats> {
  const ctl = new AbortController()
  const unlisten = onAbort(stopping, () => ctl.abort(stopping.reason))
  const timer = job.timeoutMs
    ? setTimeout(
        () =>
          ctl.abort(
            new WeirError(`timed out after ${job.timeoutMs! / 1000} s`, {
              code: 'JOB_TIMEOUT',
              stage: 'run',
              retryable: true,
            }),
          ),
        job.timeoutMs,
      )
    : undefined
  try {
    return await Promise.race([
      job.run(ctl.signal),
      new Promise<never>((_, reject) =>
        ctl.signal.addEventListener('abort', () => {
          if (!stopping.aborted) reject(ctl.signal.reason)
        }),
      ),
    ])
  } finally {
    clearTimeout(timer)
    unlisten()
  }
}

/** The history's record of a run that ended. */
export function runRecord(
  job: string,
  trigger: string,
  start: Date,
  attempts: number,
  outcome: RunRecord['outcome'],
  stats: Pick<JobStats, 'records' | 'files'>,
  error: string | undefined,
): RunRecord {
  return {
    id: randomUUID(),
    job,
    start: start.toISOString(),
    end: new Date().toISOString(),
    outcome,
    attempts,
    records: stats.records,
    files: stats.files,
    ...(error ? { error } : {}),
    trigger,
  }
}

/** The longest wait before a failed consumer (landing, alerts, serving) starts again. */
export const RESTART_CAP_MS = 5_000

/**
 * The wait before attempt `n + 1`: exponential from `baseMs`, capped at five minutes, with full
 * jitter (AWS's advice: a random wait up to the cap spreads retrying processes apart).
 */
export function backoff(baseMs: number, n: number): number {
  return Math.round(Math.random() * Math.min(300_000, baseMs * 2 ** (n - 1)))
}

/** A run that did not happen, and why. */
export function skipped(job: string, trigger: string, reason: string): RunRecord {
  const now = new Date().toISOString()
  return {
    id: randomUUID(),
    job,
    start: now,
    end: now,
    outcome: 'skipped',
    attempts: 0,
    records: 0,
    files: 0,
    error: reason,
    trigger,
  }
}
