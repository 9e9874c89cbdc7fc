import { afterEach, describe, expect, it, vi } from 'vitest'
import { createRunHistory } from '../../src/scheduler/history.js'
import { parseSchedule } from '../../src/scheduler/schedule.js'
import { createScheduler, type JobEvent } from '../../src/scheduler/scheduler.js'
import { memoryState } from '../helpers/lake.js'

const wait = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

afterEach(() => {
  vi.useRealTimers()
})

describe('scheduler on a fake clock', () => {
  it('ticks a rate schedule exactly on time, and skips a tick that finds the job still running', async () => {
    vi.useFakeTimers({ now: new Date('2026-12-02T10:00:00.000Z') })
    const history = createRunHistory(memoryState())
    const ticks: number[] = []
    const slow: { start: number; end: number }[] = []
    const s = createScheduler(
      [
        {
          name: 'ticks',
          retries: 0,
          retryDelayMs: 10,
          schedule: parseSchedule('rate(2 seconds)', 'UTC'),
          run: async () => {
            ticks.push(Date.now())
            return { records: 0, files: 0 }
          },
        },
        {
          name: 'slow',
          retries: 0,
          retryDelayMs: 10,
          schedule: parseSchedule('rate(1 second)', 'UTC'),
          run: async () => {
            const start = Date.now()
            await wait(2_500)
            slow.push({ start, end: Date.now() })
            return { records: 0, files: 0 }
          },
        },
      ],
      { history },
    )
    s.start()
    await vi.advanceTimersByTimeAsync(10_050)
    expect(ticks.length).toBe(5)
    const gaps = ticks.slice(1).map((t, i) => t - ticks[i]!)
    expect(gaps).toEqual([2000, 2000, 2000, 2000])
    for (let i = 1; i < slow.length; i++) expect(slow[i]!.start).toBeGreaterThanOrEqual(slow[i - 1]!.end)
    const skipped = (await history.list({ job: 'slow' })).filter((r) => r.outcome === 'skipped')
    expect(skipped.length).toBeGreaterThanOrEqual(2)
    expect(skipped[0]?.error).toBe('the previous run was still running')
    vi.useRealTimers()
    await s.stop(50)
  })

  it('waits before each retry, a random wait up to the base and then up to twice it (full jitter)', async () => {
    vi.useFakeTimers({ now: new Date('2026-12-02T10:00:00.000Z') })
    const events: JobEvent[] = []
    const attempts: number[] = []
    const s = createScheduler(
      [
        {
          name: 'broken',
          retries: 2,
          retryDelayMs: 300,
          run: async () => {
            attempts.push(Date.now())
            throw new Error('upstream answered 503')
          },
        },
      ],
      { history: createRunHistory(memoryState()), onEvent: (e) => events.push(e) },
    )
    const run = s.runNow('broken')
    await vi.advanceTimersByTimeAsync(1_000)
    const record = await run
    expect(record.outcome).toBe('failed')
    expect(record.attempts).toBe(3)
    const waits = events.filter((e) => e.event === 'retrying').map((e) => e.delayMs ?? -1)
    expect(waits).toHaveLength(2)
    expect(waits[0]).toBeLessThanOrEqual(300)
    expect(waits[1]).toBeLessThanOrEqual(600)
    expect(attempts[1]! - attempts[0]!).toBe(waits[0])
    expect(attempts[2]! - attempts[1]!).toBe(waits[1])
    vi.useRealTimers()
    await s.stop(50)
  })
})
