import { describe, expect, it } from 'vitest'
import { catchUp } from '../../src/pipeline/run.js'
import { createRunHistory } from '../../src/scheduler/history.js'
import { parseSchedule } from '../../src/scheduler/schedule.js'
import { createScheduler, type JobSpec } from '../../src/scheduler/scheduler.js'
import { createStateStore } from '../../src/state/state.js'
import { createLocalStore } from '../../src/storage/local/local-store.js'
import { tempDir } from '../helpers/services.js'

const history = async () => createRunHistory(createStateStore(createLocalStore(await tempDir('weir-sched-'))))
const job = (name: string, run: () => Promise<void>, extra: Partial<JobSpec> = {}): JobSpec => ({
  name,
  retries: 0,
  retryDelayMs: 10,
  run: async () => {
    await run()
    return { records: 1, files: 0 }
  },
  ...extra,
})

describe('scheduler', () => {
  it('runs a job after the jobs it needs succeeded, once per success, and not after a failure', async () => {
    const h = await history()
    const ran: string[] = []
    const s = createScheduler(
      [
        job('x', async () => void ran.push('x')),
        job('bad', async () => {
          throw new Error('no')
        }),
        job('models', async () => void ran.push('models'), { after: ['x', 'bad'] }),
      ],
      { history: h },
    )
    await s.runNow('x')
    await s.runNow('bad')
    await s.idle()
    expect(ran).toEqual(['x', 'models'])
    expect((await h.list({ job: 'models' })).map((r) => r.trigger)).toEqual(['after x'])
    await s.stop(100)
  })

  it('says why a run started: at start, continuous (and so does the terminal log)', async () => {
    const h = await history()
    const s = createScheduler(
      [job('once', async () => {}, { atStart: true }), job('follow', async () => {}, { continuous: true })],
      { history: h },
    )
    s.start()
    await s.idle()
    expect((await h.list({ job: 'once' })).map((r) => r.trigger)).toEqual(['at start'])
    expect((await h.list({ job: 'follow' })).map((r) => r.trigger)).toEqual(['continuous'])
    await s.stop(100)
  })

  it('retries what its error says may pass, and nothing its error says will fail again', async () => {
    const h = await history()
    const { WeirError } = await import('../../src/core/errors.js')
    const tries: Record<string, number> = { refused: 0, blip: 0, unknown: 0 }
    const failing = (name: string, err: () => Error) =>
      job(
        name,
        async () => {
          tries[name]!++
          throw err()
        },
        { retries: 2 },
      )
    const s = createScheduler(
      [
        failing('refused', () => new WeirError('HTTP 403', { code: 'SOURCE_HTTP', stage: 'source' })),
        failing(
          'blip',
          () =>
            new WeirError('connection reset', { code: 'STREAM_CONNECT', stage: 'stream', retryable: true }),
        ),
        failing('unknown', () => new Error('a library failed')),
      ],
      { history: h },
    )
    for (const name of Object.keys(tries)) expect(await s.runNow(name)).toMatchObject({ outcome: 'failed' })
    expect(tries).toEqual({ refused: 1, blip: 3, unknown: 3 })
    await s.stop(100)
  })

  it('a timeout stops a run that takes too long and records why', async () => {
    const h = await history()
    const s = createScheduler(
      [job('slow', () => new Promise((r) => setTimeout(r, 5000)), { timeoutMs: 100 })],
      { history: h },
    )
    const r = await s.runNow('slow')
    expect(r).toMatchObject({ outcome: 'failed', error: 'timed out after 0.1 s' })
    await s.stop(100)
  })

  it('catch-up runs a job that missed ticks once, not once per missed tick; off, nothing runs at start', async () => {
    const h = await history()
    const ranAt: number[] = []
    const hourly = job('models', async () => void ranAt.push(Date.now()), {
      schedule: parseSchedule('rate(1 hour)'),
    })
    const earlier = new Date(Date.now() - 5 * 3_600_000).toISOString()
    await h.record({
      id: '1',
      job: 'models',
      start: earlier,
      end: earlier,
      outcome: 'succeeded',
      attempts: 1,
      records: 0,
      files: 0,
    })
    const s = createScheduler([hourly], { history: h })
    s.start()
    await catchUp([hourly], h, s)
    await s.idle()
    expect(ranAt).toHaveLength(1)
    expect((await h.list({ job: 'models' }))[0]?.trigger).toBe('catch-up')
    await s.stop(100)
  })
})
