import { z } from 'zod'
import type { SourceRecord } from '../../core/records.js'
import { CITIES, createWorld } from '../simulator/world.js'
import type { Source, SourceDefinition } from '../source.js'

/** The simulator's data, generated in-process: records shaped like the real APIs, no HTTP, no credentials. */
export const demoSourceSchema = z.strictObject({
  kind: z
    .literal('demo')
    .describe('Synthetic records shaped like a real API; needs no credentials or server.'),
  dataset: z
    .enum(['x', 'weather'])
    .describe('Which API to imitate: X search (tweets, users) or Tomorrow.io realtime weather.'),
  count: z
    .number()
    .int()
    .positive()
    .default(1000)
    .describe('How many primary records to generate (tweets or readings).'),
  days: z.number().int().positive().default(3).describe('Spread event times over this many days before now.'),
  seed: z.number().int().default(42).describe('Random seed: the same seed yields the same records.'),
})

export type DemoSourceConfig = z.output<typeof demoSourceSchema>

const BATCH = 250

/**
 * Synthetic records from the API simulator's world (X v2 tweets and users with 19-digit string ids
 * beyond 2^53; Tomorrow.io realtime readings), without the HTTP: for benchmarks and offline tests.
 * Deterministic for a seed and `now`.
 */
export function createDemoSource(name: string, config: DemoSourceConfig, now = new Date()): Source {
  return {
    name,
    async *pull({ signal }) {
      const records =
        config.dataset === 'x' ? xRecords(config, now.getTime()) : weatherRecords(config, now.getTime())
      for (let i = 0; i < records.length && !signal.aborted; i += BATCH) {
        const batch = records.slice(i, i + BATCH)
        yield { records: batch, cursor: { generated: i + batch.length } }
      }
    },
  }
}

export const demoSource = {
  kind: 'demo',
  schema: demoSourceSchema,
  create: (name, config) => createDemoSource(name, config),
} satisfies SourceDefinition<DemoSourceConfig>

function xRecords(c: DemoSourceConfig, now: number): SourceRecord[] {
  const users = Math.max(10, Math.ceil(c.count / 10))
  const world = createWorld({
    seed: c.seed,
    tweetsPerHour: c.count / (c.days * 24),
    historyDays: c.days,
    users,
    start: now,
  })
  const out: SourceRecord[] = Array.from({ length: users }, (_, i) => ({
    resource: 'users',
    data: world.user(i),
  }))
  const first = Math.max(0, world.tweetCount(now) - c.count)
  for (let i = first; i < first + c.count; i++) out.push({ resource: 'tweets', data: world.tweet(i, now) })
  return out
}

function weatherRecords(c: DemoSourceConfig, now: number): SourceRecord[] {
  const world = createWorld({ seed: c.seed, tweetsPerHour: 1, historyDays: c.days, users: 1, start: now })
  const step = Math.max(60_000, Math.floor((c.days * 86_400_000) / Math.ceil(c.count / CITIES.length)))
  return Array.from({ length: c.count }, (_, i) => {
    const city = CITIES[i % CITIES.length]!
    const t = Math.floor((now - Math.floor(i / CITIES.length) * step) / 60_000) * 60_000
    return {
      resource: 'realtime',
      data: {
        data: { time: new Date(t).toISOString().replace(/\.\d+Z$/, 'Z'), values: world.weather(city, t) },
        location: { lat: city.lat, lon: city.lon, name: city.name, type: 'administrative' },
      },
    }
  })
}
