import { describe, expect, it } from 'vitest'
import { parseSchedule } from '../../src/scheduler/schedule.js'

const at = (iso: string) => new Date(iso)

describe('schedules', () => {
  it('rate() counts from the start', () => {
    const s = parseSchedule('rate(5 minutes)', 'UTC', at('2026-11-22T10:00:00Z'))
    expect(s.next(at('2026-11-22T10:00:00Z'))).toEqual(at('2026-11-22T10:05:00Z'))
    expect(s.next(at('2026-11-22T10:07:30Z'))).toEqual(at('2026-11-22T10:10:00Z'))
    expect(
      parseSchedule('rate(1 hour)', 'UTC', at('2026-11-22T10:00:00Z')).next(at('2026-11-22T10:00:00Z')),
    ).toEqual(at('2026-11-22T11:00:00Z'))
  })

  it('EventBridge cron(): six fields, ? for either day, days of the week from 1 = Sunday', () => {
    // Weekdays at 12:00 UTC: from Sunday the 22nd, the next is Monday the 23rd.
    expect(parseSchedule('cron(0 12 ? * MON-FRI *)').next(at('2026-11-22T13:00:00Z'))).toEqual(
      at('2026-11-23T12:00:00Z'),
    )
    // 2 = Monday in EventBridge.
    expect(parseSchedule('cron(0 12 ? * 2 *)').next(at('2026-11-22T13:00:00Z'))).toEqual(
      at('2026-11-23T12:00:00Z'),
    )
    expect(parseSchedule('cron(0 */2 * * ? *)').next(at('2026-11-22T13:10:00Z'))).toEqual(
      at('2026-11-22T14:00:00Z'),
    )
  })

  it('standard 5-field cron in a time zone', () => {
    // 06:00 in Toronto is 11:00 UTC in November.
    expect(parseSchedule('0 6 * * *', 'America/Toronto').next(at('2026-11-22T12:00:00Z'))).toEqual(
      at('2026-11-23T11:00:00Z'),
    )
    expect(parseSchedule('*/15 * * * *').next(at('2026-11-22T12:01:00Z'))).toEqual(at('2026-11-22T12:15:00Z'))
  })

  it('a bad schedule fails with the forms that work', () => {
    expect(() => parseSchedule('every 5 minutes')).toThrow(
      /schedule "every 5 minutes": .*use rate\(5 minutes\), cron\(0 12 \* \* \? \*\)/,
    )
    expect(() => parseSchedule('cron(0 12 * * ?)')).toThrow(/cron\(\.\.\.\) takes six fields/)
    expect(() => parseSchedule('cron(0 12 * * ? 2027)')).toThrow(/a year other than \* is not supported/)
  })
})
