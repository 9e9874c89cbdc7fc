import { spawn } from 'node:child_process'
import { connect } from 'node:net'
import { configSchema } from '../src/config/schema.js'
import { createSource } from '../src/sources/registry.js'
import { type BenchResult, median, seconds } from './types.js'

/**
 * Paging through ~100k simulated tweets: Weir's REST source (x.recent_search preset: auth, pages,
 * selectors, cursor tracking) against a bare fetch loop over the same pages, in the same run.
 * The simulator runs in its own process, as a real API would.
 */
export async function restVsFetch(tweets = 100_000, port = 4519): Promise<BenchResult> {
  const perHour = Math.ceil(tweets / 72)
  const sim = spawn(
    process.execPath,
    ['bin/weir.js', 'simulate', '--frozen', '--port', String(port), '--tweets-per-hour', String(perHour)],
    {
      stdio: 'ignore',
    },
  )
  try {
    await waitForPort(port)
    const url = `http://127.0.0.1:${port}`
    // A query without terms matches every tweet of the last 7 days (3 days of history here).
    const query = '-is:retweet'
    const bare = async () => {
      let n = 0
      let token: string | undefined
      do {
        const u = new URL('/2/tweets/search/recent', url)
        u.searchParams.set('query', query)
        u.searchParams.set('max_results', '100')
        u.searchParams.set('expansions', 'author_id')
        if (token) u.searchParams.set('next_token', token)
        const res = await fetch(u, { headers: { authorization: 'Bearer bench' } })
        const body = (await res.json()) as { data?: unknown[]; meta: { next_token?: string } }
        n += body.data?.length ?? 0
        token = body.meta.next_token
      } while (token)
      return n
    }
    const config = configSchema.parse({
      sources: {
        x: {
          preset: 'x.recent_search',
          baseUrl: url,
          auth: { bearer: 'bench' },
          params: { query },
          budget: { requests: 1_000_000, per: '15m' },
        },
      },
    })
    const weir = async () => {
      let n = 0
      const src = createSource('x', config.sources.x!, config.sources)
      const state = { get: async () => undefined, put: async () => {} }
      for await (const b of src.pull({ cursor: undefined, signal: new AbortController().signal, state })) {
        n += b.records.filter((r) => r.resource === 'tweets').length
      }
      return n
    }
    await bare() // warm up both sides
    let count = 0
    const bareTimes: number[] = []
    const weirTimes: number[] = []
    for (let i = 0; i < 5; i++) {
      bareTimes.push(await seconds(async () => (count = await bare())))
      weirTimes.push(await seconds(() => weir()))
    }
    const b = count / median(bareTimes)
    const w = count / median(weirTimes)
    return {
      name: 'rest-vs-fetch',
      unit: 'records/s',
      value: w,
      baseline: { name: 'bare fetch loop over the same pages', value: b },
      ratio: w / b,
      notes: `${count.toLocaleString('en-US')} tweets in ${Math.ceil(count / 100)} pages, median of 5 interleaved runs each, frozen simulator; target ratio >= 0.8`,
      details: { bareSeconds: bareTimes, weirSeconds: weirTimes },
    }
  } finally {
    sim.kill()
  }
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1')
      s.once('connect', () => {
        s.destroy()
        resolve(true)
      })
      s.once('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`the simulator did not start on port ${port}`)
}
