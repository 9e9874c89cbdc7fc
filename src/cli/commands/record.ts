import { randomUUID } from 'node:crypto'
import { errorMessage } from '../../core/errors.js'
import type { Pipeline } from '../../pipeline/pipeline.js'
import { createRunHistory, type RunRecord } from '../../scheduler/history.js'

/** What a command's run did, for the history. */
export interface RecordedStats {
  readonly records: number
  readonly files: number
  readonly outcome?: RunRecord['outcome']
  readonly note?: string
}

/**
 * Runs a stage command and records it in the run history under the job name `weir run` uses (a
 * source's name, `land`, `refine`, `models`, `warehouse`), with the command as its trigger: a
 * stage run by hand is in `weir runs` and `weir status` like a scheduled one, failures included.
 *
 * @example const s = await recorded(p, 'land', 'weir land', () => p.land(), (s) => s)
 */
export async function recorded<T>(
  p: Pipeline,
  job: string,
  trigger: string,
  run: () => Promise<T>,
  stats: (result: T) => RecordedStats,
): Promise<T> {
  const history = createRunHistory(p.state)
  const start = new Date()
  const entry = (r: Omit<RunRecord, 'id' | 'job' | 'start' | 'end' | 'attempts' | 'trigger'>): RunRecord => ({
    id: randomUUID(),
    job,
    start: start.toISOString(),
    end: new Date().toISOString(),
    attempts: 1,
    trigger,
    ...r,
  })
  let result: T
  try {
    result = await run()
  } catch (err) {
    // The failure is the command's to report; a history that cannot be written must not hide it.
    await history
      .record(
        entry({
          outcome: 'failed',
          records: 0,
          files: 0,
          error: errorMessage(err).replace(/\s*\n\s*/g, ' '),
        }),
      )
      .catch(() => undefined)
    throw err
  }
  const s = stats(result)
  await history.record(
    entry({
      outcome: s.outcome ?? 'succeeded',
      records: s.records,
      files: s.files,
      ...(s.note ? { error: s.note } : {}),
    }),
  )
  return result
}
