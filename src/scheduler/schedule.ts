import { Cron } from 'croner'
import { WeirError } from '../core/errors.js'

/** When a job runs: the next time after a given one. */
export interface Schedule {
  readonly text: string
  next(after: Date): Date | undefined
}

const UNITS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000, second: 1000 }

/**
 * `rate(5 minutes)` and `cron(0 12 ? * MON-FRI *)` as EventBridge writes them, or a standard
 * 5-field cron (`*\/5 * * * *`), in an IANA time zone. Rates count from `anchor` (the start).
 *
 * @example parseSchedule('rate(2 hours)', 'UTC').next(new Date())
 */
export function parseSchedule(text: string, timeZone = 'UTC', anchor = new Date()): Schedule {
  const t = text.trim()
  const rate = /^rate\(\s*(\d+)\s+(second|minute|hour|day)s?\s*\)$/i.exec(t)
  if (rate) {
    const every = Number(rate[1]) * UNITS[rate[2]!.toLowerCase()]!
    if (every <= 0) throw invalid(text, 'a rate must be at least 1')
    return {
      text: t,
      next: (after) =>
        new Date(anchor.getTime() + (Math.floor((after.getTime() - anchor.getTime()) / every) + 1) * every),
    }
  }
  const eb = /^cron\((.*)\)$/i.exec(t)
  const pattern = eb ? eventBridge(eb[1]!, text) : t
  let cron: Cron
  try {
    cron = new Cron(pattern, { timezone: timeZone, paused: true, legacyMode: true })
  } catch (err) {
    throw invalid(text, (err as Error).message.replace(/^CronPattern: /, ''))
  }
  return { text: t, next: (after) => cron.nextRun(after) ?? undefined }
}

/**
 * EventBridge's six fields (minutes hours day-of-month month day-of-week year) as croner's
 * (seconds minutes hours day-of-month month day-of-week): its days of the week count from 1 for
 * Sunday, where cron counts from 0; a year other than `*` is not supported.
 */
function eventBridge(fields: string, text: string): string {
  const f = fields.trim().split(/\s+/)
  if (f.length !== 6)
    throw invalid(text, 'cron(...) takes six fields: minutes hours day-of-month month day-of-week year')
  const [min, hour, dom, month, dow, year] = f as [string, string, string, string, string, string]
  if (year !== '*') throw invalid(text, 'a year other than * is not supported')
  const days = dow.replace(/\d+/g, (d) => String(Number(d) - 1))
  return `0 ${min} ${hour} ${dom} ${month} ${days}`
}

function invalid(text: string, why: string): WeirError {
  return new WeirError(
    `schedule "${text}": ${why}; use rate(5 minutes), cron(0 12 * * ? *) or a 5-field cron such as */5 * * * *`,
    { code: 'SCHEDULE_INVALID', stage: 'config' },
  )
}
