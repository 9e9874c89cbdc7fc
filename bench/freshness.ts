import { join } from 'node:path'
import { configSchema } from '../src/config/schema.js'
import { openPipeline } from '../src/pipeline/pipeline.js'
import { type BenchResult, median } from './types.js'

const PERIOD_MS = 20
const DURATION_MS = 15_000

/**
 * Freshness: a record published to the stream, to the moment `weir query` sees it in trusted, with
 * landing following the stream at maxAge 1 s and refining each round as it lands (micro-batches), in
 * one process as `weir run` does it. One record every 20 ms for 15 s; trusted is polled every 50 ms.
 * The baseline is the landing's own batching delay (maxAge), the floor no setting of refine can beat.
 */
export async function freshnessBench(dir: string): Promise<BenchResult> {
  const sentAt = new Map<number, number>()
  const config = configSchema.parse({
    lake: join(dir, 'lake'),
    sources: {
      events: {
        kind: 'code',
        async *pull() {
          for (let i = 0; i < DURATION_MS / PERIOD_MS; i++) {
            sentAt.set(i, Date.now())
            yield { records: [{ resource: 'events', data: { seq: i, at: new Date().toISOString() } }] }
            await new Promise((r) => setTimeout(r, PERIOD_MS))
          }
        },
      },
    },
    landing: { maxAge: '1s', maxRecords: 10_000 },
    tables: { 'events.events': { eventTime: 'at' } },
  })
  const p = await openPipeline({ config, file: undefined, dir })
  const stop = new AbortController()
  const seenAt = new Map<number, number>()
  let refines = 0
  try {
    const landing = p.land(stop.signal, true, { refine: true, onRefine: () => refines++ })
    const ingest = p.ingest()
    let last = -1
    const watch = (async () => {
      while (!stop.signal.aborted) {
        await new Promise((r) => setTimeout(r, 50))
        const rows = await p
          .query(`select seq from trusted.events_events where seq > ${last}`)
          .then((r) => r.rows)
          .catch(() => [])
        const now = Date.now()
        for (const r of rows) {
          const seq = Number(r.seq)
          if (!seenAt.has(seq)) seenAt.set(seq, now)
          last = Math.max(last, seq)
        }
        if (seenAt.size === DURATION_MS / PERIOD_MS) return
      }
    })()
    await ingest
    await Promise.race([watch, new Promise((r) => setTimeout(r, 10_000))])
    stop.abort()
    await landing
  } finally {
    await p.close()
  }
  const lat = [...seenAt].map(([seq, at]) => at - sentAt.get(seq)!).sort((a, b) => a - b)
  const p95 = lat[Math.floor(lat.length * 0.95)] ?? Number.NaN
  return {
    name: 'freshness',
    unit: 'ms',
    value: p95,
    baseline: { name: 'landing maxAge, the batching delay', value: 1_000 },
    ratio: p95 / 1_000,
    notes: `publish → row visible to a query of trusted, landing at maxAge 1 s refining each round (${refines} micro-batch refines): ${lat.length} of ${sentAt.size} records seen, p50 ${Math.round(median(lat))} ms, p95 ${Math.round(p95)} ms (goal p95 <= 3000 ms)`,
    details: { p50: median(lat), p95, seen: lat.length, sent: sentAt.size, refines },
  }
}
