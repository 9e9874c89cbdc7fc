import { WeirError } from '../core/errors.js'
import { parseDuration } from '../core/units.js'
import { createRunHistory } from '../scheduler/history.js'
import { createScheduler } from '../scheduler/scheduler.js'
import type { Pipeline } from './pipeline.js'

export interface BackfillWindow {
  readonly start: string
  readonly end: string
  readonly params: Readonly<Record<string, string>>
  /** done: by an earlier run (skipped now); ran; planned (--dry-run); failed; stopped (interrupted). */
  readonly status: 'done' | 'ran' | 'planned' | 'failed' | 'stopped' | 'pending'
  readonly records?: number
  readonly error?: string
}

interface BackfillState {
  readonly done: Readonly<Record<string, { readonly records: number; readonly at: string }>>
}

/**
 * `weir backfill <source> --from --to`: the source once per window of the range (X full-archive
 * `start_time`/`end_time`, say), each window with its own cursor, in order. Finished windows are
 * recorded in the lake's state, so a backfill that failed or was interrupted resumes at the first
 * unfinished window (and within it, at its cursor). Dates alone are whole days, `to` included.
 */
export async function backfill(
  p: Pipeline,
  source: string,
  range: { readonly from: string; readonly to: string },
  options: { readonly dryRun?: boolean; readonly signal?: AbortSignal } = {},
): Promise<BackfillWindow[]> {
  const windows = backfillWindows(specOf(p, source), range)
  const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z')

  const stateName = `backfill/${source}`
  const state = (await p.state.get<BackfillState>(stateName)) ?? { done: {} }
  const done: Record<string, { records: number; at: string }> = { ...state.done }
  const history = createRunHistory(p.state)
  const cfg = p.config.run
  const out: BackfillWindow[] = []
  let stopped = false
  const progress = () => windowsDone(p, source, out, windows.length)
  for (const w of windows) {
    if (out.length) progress()
    const base = { start: iso(w.start), end: iso(w.end), params: w.params }
    const key = `${base.start}/${base.end}`
    if (done[key]) {
      out.push({ ...base, status: 'done', records: done[key]!.records })
      continue
    }
    if (options.dryRun || stopped) {
      out.push({ ...base, status: options.dryRun ? 'planned' : 'pending' })
      continue
    }
    let records = 0
    const job = `backfill:${source}`
    const scheduler = createScheduler(
      [
        {
          name: job,
          pool: `source:${source}`,
          retries: cfg.jobs[source]?.retries ?? cfg.retries,
          retryDelayMs: parseDuration(cfg.retryDelay),
          timeoutMs: parseDuration(cfg.jobs[source]?.timeout ?? cfg.timeout),
          run: async (signal) => {
            const either = options.signal ? AbortSignal.any([signal, options.signal]) : signal
            const s = await p.ingest([source], either, {
              params: w.params,
              stateName: `sources/${source}/backfill/${key}`,
            })
            records = s.records
            return { records: s.records, files: s.files }
          },
        },
      ],
      { history },
    )
    const rec = await scheduler.runNow(job, `window ${key}`)
    if (rec.outcome !== 'succeeded') {
      out.push({ ...base, status: 'failed', ...(rec.error ? { error: rec.error } : {}) })
      stopped = true
      continue
    }
    if (options.signal?.aborted) {
      // The window stopped part-way: its cursor is saved, and the next backfill finishes it.
      out.push({ ...base, status: 'stopped', records })
      stopped = true
      continue
    }
    done[key] = { records, at: new Date().toISOString() }
    await p.state.put(stateName, { done } satisfies BackfillState)
    out.push({ ...base, status: 'ran', records })
  }
  if (!options.dryRun) progress()
  return out
}

function parseTime(text: string, flag: string): Date {
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text)
  if (Number.isNaN(d.getTime())) {
    throw new WeirError(
      `backfill: ${flag} ${text} is not a date or time (2026-11-18 or 2026-11-18T06:00:00Z)`,
      {
        code: 'BACKFILL_RANGE',
        stage: 'cli',
      },
    )
  }
  return d
}

/**
 * The windows of a backfill: `window`-long steps from `from` to `to` (a date alone for `to` is the
 * whole day, included), each with the source's parameters filled in ({start}, {end}, {date}).
 */
export function backfillWindows(
  spec: { readonly window: string | number; readonly params: Readonly<Record<string, string>> },
  range: { readonly from: string; readonly to: string },
): { start: Date; end: Date; params: Record<string, string> }[] {
  const from = parseTime(range.from, '--from')
  const to = /^\d{4}-\d{2}-\d{2}$/.test(range.to)
    ? new Date(parseTime(range.to, '--to').getTime() + 86_400_000)
    : parseTime(range.to, '--to')
  if (to <= from) {
    throw new WeirError(`backfill: --to ${range.to} is not after --from ${range.from}`, {
      code: 'BACKFILL_RANGE',
      stage: 'cli',
    })
  }
  const step = parseDuration(spec.window)
  const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z')
  const windows: { start: Date; end: Date; params: Record<string, string> }[] = []
  for (let t = from.getTime(); t < to.getTime(); t += step) {
    const start = new Date(t)
    const end = new Date(Math.min(t + step, to.getTime()))
    const params = Object.fromEntries(
      Object.entries(spec.params).map(([k, v]) => [
        k,
        v
          .replaceAll('{start}', iso(start))
          .replaceAll('{end}', iso(end))
          .replaceAll('{date}', iso(start).slice(0, 10)),
      ]),
    )
    windows.push({ start, end, params })
  }
  return windows
}

/** How far a backfill is: windows done (or found done) of all, and their records. */
function windowsDone(p: Pipeline, source: string, out: readonly BackfillWindow[], total: number): void {
  p.progress({
    stage: 'backfill',
    label: source,
    done: out.length,
    total,
    unit: 'windows',
    records: out.reduce((n, w) => n + (w.records ?? 0), 0),
  })
}

/** How the source takes a window (`run.backfill.<source>`), or a one-line error saying what to set. */
function specOf(p: Pipeline, source: string) {
  const spec = p.config.run.backfill[source]
  if (!p.config.sources[source])
    throw new WeirError(`backfill: source "${source}" is not in the config`, {
      code: 'SOURCE_UNKNOWN',
      stage: 'config',
    })
  if (!spec) {
    throw new WeirError(
      `backfill: say how ${source} takes a window, e.g. run: { backfill: { ${source}: { window: '1d', params: { start_time: '{start}', end_time: '{end}' } } } }`,
      { code: 'BACKFILL_UNSET', stage: 'config' },
    )
  }
  return spec
}
