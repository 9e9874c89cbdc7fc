import { join } from 'node:path'
import { configSchema } from '../src/config/schema.js'
import { createApi } from '../src/serve/api/app.js'
import { openServingStore, type ServingStoreConfig } from '../src/serve/stores/registry.js'
import type { BenchResult } from './types.js'

interface Load {
  readonly rps: number
  readonly p99: number
}

/** Key lookups over HTTP on loopback with autocannon, per serving store, against a bare Hono handler. */
export async function serveBench(dir: string, seconds = 5): Promise<BenchResult> {
  const { serve } = await import('@hono/node-server')
  const { Hono } = await import('hono')
  const autocannon = (await import('autocannon')).default as unknown as (o: object) => Promise<{
    requests: { average: number }
    latency: { p99: number }
    non2xx: number
  }>
  const N = 10_000
  const key = (i: number) => `k${String(i).padStart(6, '0')}`
  const load = async (
    app: { fetch: (r: Request) => Response | Promise<Response> },
    path: (i: number) => string,
  ): Promise<Load> => {
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
    })
    const { port } = server.address() as { port: number }
    // Warm-up first (every store gets the same): caches, connection pools, JIT.
    await autocannon({
      url: `http://127.0.0.1:${port}`,
      connections: 20,
      duration: 2,
      requests: [
        {
          method: 'GET',
          setupRequest: (req: object) => ({ ...req, path: path(Math.floor(Math.random() * N)) }),
        },
      ],
    })
    const r = await autocannon({
      url: `http://127.0.0.1:${port}`,
      connections: 20,
      duration: seconds,
      requests: [
        {
          method: 'GET',
          setupRequest: (req: object) => ({ ...req, path: path(Math.floor(Math.random() * N)) }),
        },
      ],
    })
    await new Promise<void>((res) => server.close(() => res()))
    if (r.non2xx) throw new Error(`${r.non2xx} requests failed`)
    return { rps: r.requests.average, p99: r.latency.p99 }
  }

  const bare = new Hono()
  bare.get('/v1/items/:key', (c) => c.json({ ok: true, key: c.req.param('key') }))
  const baseline = await load(bare, (i) => `/v1/items/${key(i)}`)

  const dynalite = (await import('dynalite')).default({ createTableMs: 0 })
  await new Promise<void>((r) => dynalite.listen(0, '127.0.0.1', () => r()))
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'bench',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'bench',
  })
  const stores: [string, ServingStoreConfig][] = [
    ['embedded', { kind: 'embedded', path: join(dir, 'serving.duckdb') }],
    [
      'postgres',
      {
        kind: 'postgres',
        url: process.env.WEIR_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test',
        prefix: `weir_bench_${process.pid}_`,
      },
    ],
    [
      'dynamodb (dynalite)',
      {
        kind: 'dynamodb',
        prefix: 'bench_',
        region: 'us-east-1',
        endpoint: `http://127.0.0.1:${(dynalite.address() as { port: number }).port}`,
      },
    ],
  ]
  const config = configSchema.parse({
    // The served table follows a source of the config; a demo one stands in.
    sources: { x: { kind: 'demo', dataset: 'x' } },
    serve: { tables: { items: { source: 'x', key: 'id', indexes: { group: 'string' } } } },
  }).serve
  const results: Record<string, Load> = {}
  for (const [name, cfg] of stores) {
    const store = await openServingStore(cfg)
    try {
      const t = { name: 'items', indexes: { group: 'string' as const } }
      await store.ensure(t)
      await store.upsert(
        t,
        Array.from({ length: N }, (_, i) => ({
          key: key(i),
          item: { id: key(i), group: `g${i % 100}`, value: i, text: `item ${i}` },
        })),
      )
      results[name] = await load(createApi({ store, config }), (i) => `/v1/items/${key(i)}`)
    } catch (err) {
      process.stderr.write(`  serve bench: ${name} skipped: ${(err as Error).message}\n`)
    } finally {
      await store.close()
    }
  }
  await new Promise<void>((r) => dynalite.close(() => r()))
  const embedded = results.embedded!
  return {
    name: 'serve-lookups',
    unit: 'requests/s',
    value: embedded.rps,
    baseline: { name: 'a bare Hono handler returning a constant, same server', value: baseline.rps },
    ratio: embedded.rps / baseline.rps,
    notes: `GET /v1/items/<random key of ${N.toLocaleString('en-US')}>, autocannon, 20 connections, 2 s warm-up then ${seconds} s each on loopback (the embedded store answers repeated keys from memory): ${Object.entries(
      results,
    )
      .map(
        ([n, r]) =>
          `${n} ${Math.round(r.rps).toLocaleString('en-US')} req/s, p99 ${r.p99} ms (ratio ${(r.rps / baseline.rps).toFixed(2)})`,
      )
      .join(
        '; ',
      )}; bare handler ${Math.round(baseline.rps).toLocaleString('en-US')} req/s, p99 ${baseline.p99} ms`,
    details: { results, baseline },
  }
}
