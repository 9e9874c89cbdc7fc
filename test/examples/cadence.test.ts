import { afterEach, describe, expect, it, vi } from 'vitest'
import { loadConfig } from '../../src/config/load.js'
import { createRunHistory } from '../../src/scheduler/history.js'
import { parseSchedule } from '../../src/scheduler/schedule.js'
import { createScheduler, type JobSpec } from '../../src/scheduler/scheduler.js'
import { memoryState } from '../helpers/lake.js'

afterEach(() => {
  vi.useRealTimers()
})

describe("x-tweets-lake's schedules, a day on a fake clock", () => {
  it("runs seed 004's datasets at their cadences: profiles once a day, timelines every 4 hours, metrics every 2 hours", async () => {
    const { config } = await loadConfig({ cwd: 'examples/x-tweets-lake' })
    vi.useFakeTimers({ now: new Date('2026-12-02T00:00:00.000Z') })
    const runs = new Map<string, number[]>()
    const jobs: JobSpec[] = Object.entries(config.run.jobs).map(([name, j]) => ({
      name,
      retries: 0,
      retryDelayMs: 10,
      schedule: parseSchedule(j.schedule!, config.run.timeZone),
      run: async () => {
        runs.set(name, [...(runs.get(name) ?? []), Date.now()])
        return { records: 0, files: 0 }
      },
    }))
    const s = createScheduler(jobs, { history: createRunHistory(memoryState()) })
    s.start()
    await vi.advanceTimersByTimeAsync(24 * 3_600_000 + 1_000)
    const hours = (name: string) => (runs.get(name) ?? []).map((t) => new Date(t).toISOString().slice(11, 16))
    expect(hours('x_profiles')).toEqual(['06:00'])
    expect(hours('x_timelines')).toEqual(['04:00', '08:00', '12:00', '16:00', '20:00', '00:00'])
    expect(hours('x_metrics')).toHaveLength(12)
    expect(runs.get('x')).toHaveLength(24 * 12)
    vi.useRealTimers()
    await s.stop(50)
  })
})
