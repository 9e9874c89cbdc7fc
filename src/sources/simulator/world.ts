/**
 * The simulator's deterministic world: users, tweets, cities and movies derived from a seed and
 * the clock, so every run serves the same data for the same time and new tweets keep arriving.
 */

const HOUR = 3_600_000
const DAY = 24 * HOUR
export const TAGS = ['dataengineering', 'duckdb', 'aws', 'opensource', 'analytics', 'streaming'] as const
export const WORDS = [
  'data',
  'lake',
  'pipeline',
  'stream',
  'parquet',
  'schema',
  'query',
  'batch',
  'latency',
  'replay',
] as const

export interface City {
  readonly key: string
  readonly name: string
  readonly lat: number
  readonly lon: number
  /** Typical temperature, °C. */
  readonly base: number
}

export const CITIES: readonly City[] = [
  {
    key: 'toronto',
    name: 'Toronto, Golden Horseshoe, Ontario, Canada',
    lat: 43.6535,
    lon: -79.3839,
    base: 8,
  },
  { key: 'sao paulo', name: 'São Paulo, Região Sudeste, Brasil', lat: -23.5505, lon: -46.6333, base: 24 },
  { key: 'new york', name: 'New York, United States', lat: 40.7128, lon: -74.006, base: 12 },
  { key: 'lisbon', name: 'Lisboa, Portugal', lat: 38.7223, lon: -9.1393, base: 17 },
  { key: 'phoenix', name: 'Phoenix, Arizona, United States', lat: 33.4484, lon: -112.074, base: 30 },
]

export interface WorldOptions {
  readonly seed: number
  /** Tweets per hour across all users. */
  readonly tweetsPerHour: number
  /** How far back the tweet history goes at start. */
  readonly historyDays: number
  readonly users: number
  /** The instant the world starts from; tweets exist from `start - historyDays` on. */
  readonly start: number
}

/** A 32-bit hash of a number and the seed (mulberry32 finaliser): cheap, stable, well spread. */
export function hash(n: number, seed: number): number {
  let t = (n + seed * 0x9e3779b9) >>> 0
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return (t ^ (t >>> 14)) >>> 0
}

export function createWorld(o: WorldOptions) {
  const origin = o.start - o.historyDays * DAY
  const interval = HOUR / o.tweetsPerHour
  const userId = (i: number) => String(2_244_994_945 + i * 1_009)
  const tweetIdBase = 1_590_000_000_000_000_000n

  const world = {
    options: o,
    user(i: number) {
      const h = hash(i, o.seed)
      return {
        id: userId(i),
        name: `User ${i}`,
        username: `user_${i}`,
        created_at: new Date(origin - (h % 3000) * DAY).toISOString().replace(/\.\d+Z$/, '.000Z'),
        description: `${WORDS[h % WORDS.length]} and ${WORDS[(h >>> 4) % WORDS.length]}`,
        verified: h % 10 === 0,
        public_metrics: {
          followers_count: h % 50_000,
          following_count: (h >>> 3) % 2_000,
          tweet_count: (h >>> 5) % 20_000,
          listed_count: (h >>> 7) % 300,
        },
      }
    },
    userIndexById(id: string): number | undefined {
      const n = (Number(id) - 2_244_994_945) / 1_009
      return Number.isInteger(n) && n >= 0 && n < o.users ? n : undefined
    },
    userIndexByName(username: string): number | undefined {
      const m = /^user_(\d+)$/i.exec(username)
      const n = m ? Number(m[1]) : -1
      return n >= 0 && n < o.users ? n : undefined
    },
    /** How many tweets exist at time `now` (indices 0..count-1, oldest first). */
    tweetCount(now: number): number {
      return Math.max(0, Math.floor((now - origin) / interval) + 1)
    },
    tweetTime(i: number): number {
      return origin + Math.floor(i * interval)
    },
    tweetId(i: number): string {
      return (tweetIdBase + BigInt(i) * 1_000_003n).toString()
    },
    tweetIndex(id: string): number | undefined {
      if (!/^\d{1,20}$/.test(id)) return undefined
      const d = BigInt(id) - tweetIdBase
      if (d < 0n || d % 1_000_003n !== 0n) return undefined
      return Number(d / 1_000_003n)
    },
    tweetAuthor(i: number): number {
      return hash(i, o.seed) % o.users
    },
    tweetTag(i: number): string {
      return TAGS[(hash(i, o.seed) >>> 8) % TAGS.length]!
    },
    tweet(i: number, now: number) {
      const h = hash(i, o.seed)
      const tag = world.tweetTag(i)
      const words = Array.from({ length: 5 + (h % 8) }, (_, k) => WORDS[(h >>> k) % WORDS.length]).join(' ')
      const text = `${words} #${tag}`
      const id = world.tweetId(i)
      // Engagement grows with age, which is what a metrics refresh picks up.
      const ageHours = Math.max(0, (now - world.tweetTime(i)) / HOUR)
      const grow = (k: number) => Math.floor((h % k) * Math.log2(2 + ageHours))
      return {
        id,
        text,
        author_id: userId(world.tweetAuthor(i)),
        conversation_id: id,
        created_at: new Date(world.tweetTime(i)).toISOString(),
        lang: h % 5 === 0 ? 'pt' : 'en',
        edit_history_tweet_ids: [id],
        public_metrics: {
          retweet_count: grow(20),
          reply_count: grow(7),
          like_count: grow(90),
          quote_count: grow(3),
        },
        entities: { hashtags: [{ start: text.length - tag.length - 1, end: text.length, tag }] },
      }
    },
    city(location: string) {
      const key = location.trim().toLowerCase()
      const byName = CITIES.find((c) => c.key === key || c.name.toLowerCase().startsWith(key))
      if (byName) return byName
      const m = /^(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)$/.exec(key)
      return m
        ? CITIES.find((c) => Math.abs(c.lat - Number(m[1])) < 0.5 && Math.abs(c.lon - Number(m[2])) < 0.5)
        : undefined
    },
    weather(city: City, t: number) {
      const minute = Math.floor(t / 60_000)
      const h = hash(minute + city.lat * 1000, o.seed)
      const hour = new Date(t).getUTCHours()
      const temperature = +(
        city.base +
        6 * Math.sin(((hour - 9) / 24) * 2 * Math.PI) +
        (h % 300) / 100
      ).toFixed(2)
      return {
        temperature,
        temperatureApparent: +(temperature + ((h >>> 3) % 200) / 100 - 1).toFixed(2),
        humidity: 40 + ((h >>> 5) % 55),
        windSpeed: +(((h >>> 7) % 1500) / 100).toFixed(2),
        windGust: +(((h >>> 9) % 2500) / 100).toFixed(2),
        precipitationProbability: (h >>> 11) % 100,
        uvIndex: (h >>> 13) % 11,
        weatherCode: [1000, 1100, 1101, 4001][(h >>> 15) % 4]!,
      }
    },
    /** TMDB id for an IMDB id; one in ten ids has no match, as in real catalogues. */
    tmdbIdForImdb(imdb: string): number | undefined {
      const m = /^tt(\d{7,8})$/.exec(imdb)
      if (!m) return undefined
      const n = Number(m[1])
      return hash(n, o.seed) % 10 === 0 ? undefined : 10_000 + (n % 900_000)
    },
    movie(id: number) {
      const h = hash(id, o.seed)
      return {
        id,
        imdb_id: `tt${String(id - 10_000).padStart(7, '0')}`,
        title: `Movie ${id}`,
        original_title: `Movie ${id}`,
        original_language: h % 4 === 0 ? 'pt' : 'en',
        overview: `A ${WORDS[h % WORDS.length]} story.`,
        release_date: new Date(Date.UTC(1950 + (h % 70), (h >>> 4) % 12, 1 + ((h >>> 8) % 28)))
          .toISOString()
          .slice(0, 10),
        runtime: 80 + (h % 80),
        budget: (h % 200) * 1_000_000,
        revenue: ((h >>> 3) % 900) * 1_000_000,
        genres: [{ id: 18 + (h % 5), name: ['Drama', 'Comedy', 'Action', 'Romance', 'Crime'][h % 5]! }],
        popularity: +((h % 100_000) / 1000).toFixed(3),
        vote_average: +(((h >>> 5) % 100) / 10).toFixed(1),
        vote_count: (h >>> 9) % 30_000,
        adult: false,
        video: false,
      }
    },
    reviewCount(id: number): number {
      return hash(id + 7, o.seed) % 45
    },
  }
  return world
}

export type World = ReturnType<typeof createWorld>
