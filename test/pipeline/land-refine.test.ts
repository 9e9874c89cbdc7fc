import { describe, expect, it } from 'vitest'
import { configSchema } from '../../src/config/schema.js'
import { openPipeline } from '../../src/pipeline/pipeline.js'
import { refineStatus } from '../../src/refine/refine.js'
import { json } from '../helpers/lake.js'
import { tempDir } from '../helpers/services.js'

async function pipeline() {
  const dir = await tempDir('weir-micro-')
  const config = configSchema.parse({
    lake: `${dir}/lake`,
    stream: { kind: 'embedded', dir: `${dir}/stream` },
    sources: { w: { kind: 'demo', dataset: 'weather', count: 50 } },
    tables: { 'w.realtime': { eventTime: 'data.time' } },
    landing: { maxRecords: 10, maxAge: '1s' },
  })
  return openPipeline({ config, file: undefined, dir })
}

const count = async (p: Awaited<ReturnType<typeof pipeline>>) =>
  Number((await p.query('select count(*) as n from trusted.w_realtime')).rows[0]?.n)

describe('land --refine (micro-batches)', () => {
  it('refines what each landing round wrote, so the trusted table is complete when land returns', async () => {
    const p = await pipeline()
    try {
      await p.ingest()
      const s = await p.land(undefined, false, { refine: true })
      expect(s.records).toBe(50)
      const note = s.notes?.find((n) => n.startsWith('refined'))
      expect(note).toMatch(/^refined 50 records into \d+ trusted files in \d+ micro-batches$/)
      expect(await count(p)).toBe(50)
      expect((await refineStatus(p.store, p.state))[0]).toMatchObject({ table: 'w_realtime', pending: 0 })
    } finally {
      await p.close()
    }
  })

  it('while following, records published later are queryable in the trusted zone within seconds', async () => {
    const p = await pipeline()
    const stop = new AbortController()
    try {
      await p.ingest()
      const landing = p.land(stop.signal, true, { refine: true })
      const deadline = Date.now() + 20_000
      const until = async (n: number) => {
        for (;;) {
          const got = await count(p).catch(() => 0)
          if (got >= n || Date.now() > deadline) return got
          await new Promise((r) => setTimeout(r, 100))
        }
      }
      expect(await until(50)).toBe(50)
      const s = await p.stream()
      await s.publish(
        'w',
        Array.from({ length: 15 }, (_, i) =>
          json(
            { id: `late-${i}`, data: { time: '2026-11-21T10:00:00Z', values: { temperature: i } } },
            'realtime',
          ),
        ),
      )
      // 10 in a full file at once, the last 5 when their file ages (maxAge 1s), then refined.
      expect(await until(65)).toBe(65)
      stop.abort()
      const summary = await landing
      expect(summary.records).toBe(65)
      expect(summary.notes?.some((n) => /^refined 65 records/.test(n))).toBe(true)
    } finally {
      stop.abort()
      await p.close()
    }
  })
})

describe('engine.refineBatch', () => {
  it('bounds the raw bytes of a refine batch: files of ~1 KB with a limit of 1 byte are refined one per batch, all of them', async () => {
    const dir = await tempDir('weir-batch-')
    const config = configSchema.parse({
      lake: `${dir}/lake`,
      stream: { kind: 'embedded', dir: `${dir}/stream` },
      sources: { w: { kind: 'demo', dataset: 'weather', count: 50 } },
      tables: { 'w.realtime': { eventTime: 'data.time' } },
      landing: { maxRecords: 10 },
      engine: { refineBatch: 1 },
    })
    const p = await openPipeline({ config, file: undefined, dir })
    try {
      await p.ingest()
      await p.land()
      const raw = (await refineStatus(p.store, p.state))[0]!
      expect(raw.pending).toBeGreaterThan(1)
      await p.refine()
      expect(Number((await p.query('select count(*) as n from trusted.w_realtime')).rows[0]?.n)).toBe(50)
      expect((await refineStatus(p.store, p.state))[0]).toMatchObject({ pending: 0, batches: raw.pending })
    } finally {
      await p.close()
    }
  })

  it('an engine out of memory fails with the settings to change', async () => {
    const dir = await tempDir('weir-oom-')
    const config = configSchema.parse({ lake: `${dir}/lake`, engine: { memoryLimit: '4MB' } })
    const p = await openPipeline({ config, file: undefined, dir })
    try {
      await expect(
        p.query("select range as a, repeat('x', 100) as b from range(2000000) order by random()"),
      ).rejects.toThrow(
        /Out of Memory Error: .*; raise engine\.memoryLimit, or lower engine\.threads or engine\.refineBatch/,
      )
    } finally {
      await p.close()
    }
  })
})
