import { z } from 'zod'
import type { SourceRecord } from '../../core/records.js'
import type { Source, SourceDefinition } from '../source.js'

/** Built-in synthetic data, so the whole pipeline runs without credentials (`weir demo`). */
export const demoSourceSchema = z.strictObject({
  kind: z.literal('demo').describe('Synthetic records shaped like a real API; needs no credentials.'),
  dataset: z
    .enum(['x', 'weather'])
    .describe('Which synthetic API to imitate: X search (tweets, users) or weather readings.'),
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

const WORDS = [
  'data',
  'lake',
  'pipeline',
  'stream',
  'parquet',
  'schema',
  'query',
  'batch',
  'latency',
  'duckdb',
  'kinesis',
  'glue',
  'athena',
  'airflow',
  'partition',
  'bookmark',
  'replay',
  'exactly-once',
  'cost',
  'laptop',
] as const
const TAGS = ['dataengineering', 'aws', 'duckdb', 'opensource', 'analytics', 'streaming'] as const
const CITIES = [
  { name: 'Toronto, Ontario, Canada', lat: 43.6535, lon: -79.3839, base: 8 },
  { name: 'São Paulo, Brazil', lat: -23.5505, lon: -46.6333, base: 24 },
  { name: 'New York, United States', lat: 40.7128, lon: -74.006, base: 12 },
  { name: 'Lisbon, Portugal', lat: 38.7223, lon: -9.1393, base: 17 },
  { name: 'Phoenix, Arizona, United States', lat: 33.4484, lon: -112.074, base: 30 },
] as const
const BATCH = 250

/** A small deterministic PRNG (mulberry32): the same seed yields the same demo data on every machine. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Synthetic records shaped like the real APIs (X v2 search: tweets and users, with 19-digit string
 * ids beyond 2^53; Tomorrow.io realtime weather), so `weir demo` needs no credentials. Deterministic
 * for a given seed and `now`.
 */
export function createDemoSource(name: string, config: DemoSourceConfig, now = new Date()): Source {
  return {
    name,
    async *pull({ signal }) {
      const records = config.dataset === 'x' ? xRecords(config, now) : weatherRecords(config, now)
      for (let i = 0; i < records.length && !signal.aborted; i += BATCH) {
        const batch = records.slice(i, i + BATCH)
        yield { records: batch, cursor: { generated: i + batch.length } }
      }
    },
  }
}

export const demoSource: SourceDefinition<DemoSourceConfig> = {
  kind: 'demo',
  create: (name, config) => createDemoSource(name, config),
}

function xRecords(config: DemoSourceConfig, now: Date): SourceRecord[] {
  const rnd = random(config.seed)
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!
  const span = config.days * 86_400_000
  const userCount = Math.max(10, Math.ceil(config.count / 10))
  const users = Array.from({ length: userCount }, (_, i) => ({
    id: String(1_000_000_000 + i * 7919),
    name: `User ${i}`,
    username: `user_${i}`,
    created_at: new Date(now.getTime() - span * 100 - Math.floor(rnd() * span * 1000)).toISOString(),
    verified: rnd() < 0.1,
    description: `${pick(WORDS)} ${pick(WORDS)} enthusiast`,
    public_metrics: {
      followers_count: Math.floor(rnd() * 50_000),
      following_count: Math.floor(rnd() * 2_000),
      tweet_count: Math.floor(rnd() * 20_000),
      listed_count: Math.floor(rnd() * 300),
    },
  }))
  const out: SourceRecord[] = users.map((u) => ({ resource: 'users', data: u }))
  for (let i = 0; i < config.count; i++) {
    const id = (1_590_000_000_000_000_000n + BigInt(i) * 104_729n).toString()
    const author = pick(users)
    const tag = pick(TAGS)
    const text = `${Array.from({ length: 6 + Math.floor(rnd() * 10) }, () => pick(WORDS)).join(' ')} #${tag}`
    out.push({
      resource: 'tweets',
      data: {
        id,
        text,
        author_id: author.id,
        conversation_id: id,
        created_at: new Date(now.getTime() - Math.floor(rnd() * span)).toISOString(),
        lang: rnd() < 0.8 ? 'en' : 'pt',
        edit_history_tweet_ids: [id],
        public_metrics: {
          retweet_count: Math.floor(rnd() * 40),
          reply_count: Math.floor(rnd() * 10),
          like_count: Math.floor(rnd() * 200),
          quote_count: Math.floor(rnd() * 5),
        },
        entities: { hashtags: [{ start: text.length - tag.length - 1, end: text.length, tag }] },
      },
    })
  }
  return out
}

function weatherRecords(config: DemoSourceConfig, now: Date): SourceRecord[] {
  const rnd = random(config.seed)
  const perCity = Math.ceil(config.count / CITIES.length)
  const step = Math.max(60_000, Math.floor((config.days * 86_400_000) / perCity))
  const out: SourceRecord[] = []
  for (let i = 0; i < config.count; i++) {
    const city = CITIES[i % CITIES.length]!
    const t = new Date(now.getTime() - Math.floor(i / CITIES.length) * step)
    t.setUTCSeconds(0, 0)
    const hour = t.getUTCHours()
    const temperature = +(city.base + 6 * Math.sin(((hour - 9) / 24) * 2 * Math.PI) + rnd() * 3).toFixed(2)
    out.push({
      resource: 'realtime',
      data: {
        data: {
          time: t.toISOString().replace('.000Z', 'Z'),
          values: {
            temperature,
            temperatureApparent: +(temperature + rnd() * 2 - 1).toFixed(2),
            humidity: Math.floor(40 + rnd() * 55),
            windSpeed: +(rnd() * 15).toFixed(2),
            windGust: +(rnd() * 25).toFixed(2),
            precipitationProbability: Math.floor(rnd() * 100),
            uvIndex: Math.floor(rnd() * 11),
            weatherCode: pick4(rnd),
          },
        },
        location: { lat: city.lat, lon: city.lon, name: city.name, type: 'administrative' },
      },
    })
  }
  return out
}

function pick4(rnd: () => number): number {
  return [1000, 1100, 1101, 4001][Math.floor(rnd() * 4)]!
}
