import type { z } from 'zod'
import { parseSchedule } from '../scheduler/schedule.js'
import { STREAM_PRESETS } from '../sources/http-stream/stream-presets.js'
import { PRESETS } from '../sources/rest/presets.js'

/** Jobs of `weir run` other than the sources' own. */
const STAGE_JOBS = ['land', 'refine', 'models', 'warehouse', 'alerts', 'serve']

/**
 * Names that must name something: every preset, schedule, and reference to a source (tables,
 * jobs, backfills, alert rules, served tables). Checked when the config loads, with the key path,
 * rather than when a stage first meets it (or never, where a dangling name would do nothing).
 */
export function checkReferences(
  c: {
    sources: Record<string, unknown>
    tables: Record<string, unknown>
    run: {
      timeZone: string
      jobs: Record<string, { schedule?: string | undefined; after?: string[] | undefined }>
      backfill: Record<string, unknown>
    }
    alerts: { rules: Record<string, { source: string }> }
    serve: { tables: Record<string, { source?: string | undefined }> }
  },
  ctx: z.core.$RefinementCtx,
): void {
  const sources = Object.keys(c.sources)
  const known = sources.length ? `; sources: ${sources.join(', ')}` : '; the config declares no sources'
  const source = (name: string, path: (string | number)[]) => {
    if (!c.sources[name]) ctx.addIssue({ code: 'custom', path, message: `no source named "${name}"${known}` })
  }
  for (const [name, s] of Object.entries(c.sources)) {
    const rest = s as { kind?: string; preset?: string; endpoints?: Record<string, { preset?: string }> }
    if (rest.kind === 'http-stream') {
      checkStream(name, rest.preset, c.run.jobs[name], ctx)
      continue
    }
    if (rest.kind !== 'rest') continue
    const presets = [
      ...(rest.preset ? [[['sources', name, 'preset'], rest.preset] as const] : []),
      ...Object.entries(rest.endpoints ?? {}).flatMap(([e, ep]) =>
        ep.preset ? [[['sources', name, 'endpoints', e, 'preset'], ep.preset] as const] : [],
      ),
    ]
    for (const [path, preset] of presets) {
      if (!PRESETS[preset])
        ctx.addIssue({
          code: 'custom',
          path: [...path],
          message: `no preset "${preset}" (see docs/presets.md: ${Object.keys(PRESETS).slice(0, 4).join(', ')}, ...)`,
        })
    }
  }
  for (const key of Object.keys(c.tables)) source(key.split('.')[0] ?? key, ['tables', key])
  const jobs = [...sources, ...STAGE_JOBS]
  for (const [name, job] of Object.entries(c.run.jobs)) {
    if (!jobs.includes(name))
      ctx.addIssue({
        code: 'custom',
        path: ['run', 'jobs', name],
        message: `no job named "${name}": a job is a source (${sources.join(', ') || 'none declared'}) or one of ${STAGE_JOBS.join(', ')}`,
      })
    for (const [i, after] of (job.after ?? []).entries())
      if (!jobs.includes(after))
        ctx.addIssue({
          code: 'custom',
          path: ['run', 'jobs', name, 'after', i],
          message: `no job named "${after}"`,
        })
    if (job.schedule) {
      try {
        parseSchedule(job.schedule, c.run.timeZone)
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          path: ['run', 'jobs', name, 'schedule'],
          message: (err as Error).message,
        })
      }
    }
  }
  for (const name of Object.keys(c.run.backfill)) source(name, ['run', 'backfill', name])
  for (const [name, r] of Object.entries(c.alerts.rules))
    source(r.source, ['alerts', 'rules', name, 'source'])
  for (const [name, t] of Object.entries(c.serve.tables))
    if (t.source) source(t.source, ['serve', 'tables', name, 'source'])
}

/** A stream's preset must exist, and it takes no schedule: `weir run` reads it for as long as it runs. */
function checkStream(
  name: string,
  preset: string | undefined,
  job: { schedule?: string | undefined; after?: string[] | undefined } | undefined,
  ctx: z.core.$RefinementCtx,
) {
  if (preset && !STREAM_PRESETS[preset])
    ctx.addIssue({
      code: 'custom',
      path: ['sources', name, 'preset'],
      message: `no streaming preset "${preset}" (see docs/presets.md: ${Object.keys(STREAM_PRESETS).join(', ')})`,
    })
  if (job?.schedule || job?.after?.length)
    ctx.addIssue({
      code: 'custom',
      path: ['run', 'jobs', name, job.schedule ? 'schedule' : 'after'],
      message: `${name} is a stream: weir run reads it for as long as it runs, so it takes no schedule or after`,
    })
}
