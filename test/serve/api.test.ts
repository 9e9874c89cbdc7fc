import { existsSync, readdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { Validator } from '@seriousme/openapi-schema-validator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { configSchema } from '../../src/config/schema.js'
import { runDemo } from '../../src/pipeline/demo.js'
import { openPipeline, type Pipeline } from '../../src/pipeline/pipeline.js'
import { type Serving, startServing } from '../../src/pipeline/serve.js'
import { serveSink } from '../../src/serve/sink.js'
import type { Item, ServingStore, TableSpec } from '../../src/serve/stores/store.js'
import { tempDir } from '../helpers/services.js'

const KEYS = {
  reader: 'k-reader-0123456789',
  other: 'k-other-0123456789',
  limited: 'k-limited-0123456789',
  admin: 'k-admin-0123456789',
}
let p: Pipeline
let s: Serving
let lake: string
const tweets: TableSpec = {
  name: 'tweets',
  indexes: { author_id: 'string', created_at: 'string', 'public_metrics.like_count': 'number' },
}

beforeAll(async () => {
  lake = join(await tempDir('weir-serve-'), 'lake')
  await runDemo({ lake })
  const config = configSchema.parse({
    lake,
    sources: { x: { kind: 'demo', dataset: 'x' } },
    serve: {
      tables: {
        tweets: {
          source: 'x',
          resource: 'tweets',
          key: 'id',
          indexes: tweets.indexes,
          derive: { engagement: 'public_metrics.like_count + public_metrics.retweet_count' },
        },
      },
      keys: [
        { name: 'reader', key: KEYS.reader, scopes: ['tweets'] },
        { name: 'other', key: KEYS.other, scopes: ['users'] },
        { name: 'limited', key: KEYS.limited, scopes: ['*'], rateLimit: { count: 3, per: '1m' } },
        { name: 'admin', key: KEYS.admin, scopes: ['*'] },
      ],
    },
  })
  p = await openPipeline({ config, file: undefined, dir: lake })
  s = await startServing(p, { port: 0, host: '127.0.0.1', follow: false })
  await s.sink
}, 60_000)
afterAll(async () => {
  await s?.close()
  await p?.close()
})

const get = (path: string, key: string | null = KEYS.reader) =>
  fetch(`${s.url}${path}`, key ? { headers: { 'x-api-key': key } } : {})

async function dump(store: ServingStore): Promise<Map<string, Item>> {
  const out = new Map<string, Item>()
  let cursor: string | undefined
  do {
    const page = await store.query(tweets, { limit: 500, ...(cursor ? { cursor } : {}) })
    for (const i of page.items) out.set(i.key, i.item)
    cursor = page.cursor
  } while (cursor)
  return out
}

async function walk(path: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = []
  let next: string | undefined
  for (;;) {
    const res = await get(`${path}${next ? `&cursor=${encodeURIComponent(next)}` : ''}`)
    expect(res.status).toBe(200)
    const body = (await res.json()) as { items: Record<string, unknown>[]; next?: string }
    items.push(...body.items)
    if (!body.next) return items
    next = body.next
  }
}

describe('weir serve', () => {
  it('after the demo, serves tweets by id and by author_id, and walking every page gives exactly the backing rows', async () => {
    const trusted = await p.query(
      'select count(distinct id) as n, min(id) as id, mode(author_id) as author from trusted.x_tweets',
    )
    const { n, id, author } = trusted.rows[0] as { n: number; id: string; author: string }
    expect(await s.store.count(tweets)).toBe(n)
    const one = await get(`/v1/tweets/${id}`)
    expect(one.status).toBe(200)
    const item = (await one.json()) as {
      id: string
      engagement: number
      public_metrics: { like_count: number; retweet_count: number }
    }
    expect(item.id).toBe(id)
    expect(item.engagement).toBe(item.public_metrics.like_count + item.public_metrics.retweet_count)
    const all = await walk('/v1/tweets?limit=50')
    expect(all).toHaveLength(n)
    expect(new Set(all.map((t) => t.id)).size).toBe(n)
    const byAuthor = await walk(`/v1/tweets?author_id=${author}&limit=7&sort=author_id`)
    const expected = await p.query(
      `select count(distinct id) as n from trusted.x_tweets where author_id = '${author}'`,
    )
    expect(byAuthor.length).toBe(expected.rows[0]!.n)
    expect(byAuthor.every((t) => t.author_id === author)).toBe(true)
    // Range, descending, with field selection.
    const top = (await (
      await get(
        '/v1/tweets?public_metrics.like_count=gte:300&sort=-public_metrics.like_count&select=id,public_metrics&limit=5',
      )
    ).json()) as {
      items: { id: string; public_metrics: { like_count: number } }[]
    }
    const likes = top.items.map((t) => t.public_metrics.like_count)
    expect(likes).toEqual([...likes].sort((a, b) => b - a))
    expect(Object.keys(top.items[0]!).sort()).toEqual(['id', 'public_metrics'])
  })

  it('replaying the whole stream into the sink leaves the store identical', async () => {
    const before = await dump(s.store)
    const replay = await serveSink(await p.stream(), s.store, p.config.serve, { group: 'serving-replay' })
    expect(replay.records).toBeGreaterThan(0)
    const after = await dump(s.store)
    expect(after.size).toBe(before.size)
    expect(after).toEqual(before)
  })

  it('keys: none → 401, out of scope → 403, over the rate → 429; a bad filter → 400 naming the parameter', async () => {
    const none = await get('/v1/tweets', null)
    expect(none.status).toBe(401)
    expect(await none.json()).toEqual({
      error: { code: 'unauthorized', message: expect.stringMatching(/API key is required/) },
    })
    expect(
      (await fetch(`${s.url}/v1/tweets`, { headers: { authorization: `Bearer ${KEYS.reader}` } })).status,
    ).toBe(200)
    expect((await get('/v1/tweets', 'not-a-key')).status).toBe(401)
    expect((await get('/v1/tweets', KEYS.other)).status).toBe(403)
    for (let i = 0; i < 3; i++) expect((await get('/v1/tweets?limit=1', KEYS.limited)).status).toBe(200)
    const limited = await get('/v1/tweets?limit=1', KEYS.limited)
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    const cases: [string, RegExp][] = [
      ['/v1/tweets?text=hello', /^parameter 'text': not an indexed field of tweets/],
      [
        '/v1/tweets?public_metrics.like_count=gte:lots',
        /^parameter 'public_metrics\.like_count': "lots" is not a number/,
      ],
      [
        '/v1/tweets?public_metrics.like_count=prefix:1',
        /^parameter 'public_metrics\.like_count': prefix: needs a text field/,
      ],
      ['/v1/tweets?limit=0', /^parameter 'limit'/],
      ['/v1/tweets?cursor=garbage', /^parameter 'cursor'/],
      ['/v1/tweets?author_id=1&created_at=2', /^one filter at a time/],
      ['/v1/tweets?sort=text', /^parameter 'sort'/],
    ]
    for (const [path, message] of cases) {
      const res = await get(path)
      expect(res.status, path).toBe(400)
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(message)
    }
  })

  it('SQL injection and path traversal change nothing and leak nothing', async () => {
    const before = await dump(s.store)
    const attacks = [
      `/v1/tweets?author_id=${encodeURIComponent("' OR '1'='1")}`,
      `/v1/tweets?author_id=${encodeURIComponent("x'; DROP TABLE weir_serve_tweets; --")}`,
      `/v1/tweets?author_id=in:${encodeURIComponent("a','b') OR 1=1 --")}`,
      `/v1/tweets?created_at=prefix:${encodeURIComponent("%' OR ''='")}`,
      `/v1/tweets/${encodeURIComponent("1' OR '1'='1")}`,
      `/v1/tweets?select=${encodeURIComponent('id,(select 1)')}`,
      '/v1/tweets/..%2F..%2F..%2Fetc%2Fpasswd',
      '/v1/..%2F_state%2Fsources%2Fx',
      '/v1/%2E%2E/%2E%2E/weir.yaml',
      '/../../../etc/passwd',
    ]
    for (const path of attacks) {
      const res = await get(path)
      const text = await res.text()
      expect([200, 400, 404], path).toContain(res.status)
      // No file content, no secret, no stack, no database error.
      expect(text, path).not.toMatch(
        /root:|bearer|demo-token|at .*\.js:\d+|syntax error|Parser Error|Binder Error/i,
      )
      // The dashboard answers any other path with its own page, nothing else.
      if (res.status === 200 && res.headers.get('content-type')?.startsWith('text/html'))
        expect(text).toContain('<title>Weir</title>')
      else if (res.status === 200) expect(JSON.parse(text).items ?? [JSON.parse(text)]).toEqual([])
    }
    expect(await dump(s.store)).toEqual(before)
  })

  it('publishes a valid OpenAPI 3.1 document, docs, health, readiness and Prometheus metrics', async () => {
    const doc = await (await get('/openapi.json', null)).json()
    const result = await new Validator().validate(doc as Record<string, unknown>)
    expect(result.errors).toBeUndefined()
    expect(result.valid).toBe(true)
    expect(doc).toMatchObject({
      openapi: '3.1.0',
      paths: { '/v1/tweets': { get: { operationId: 'list_tweets' } } },
    })
    expect(await (await get('/docs', null)).text()).toContain('/v1/tweets')
    expect(await (await get('/healthz', null)).json()).toEqual({ ok: true })
    expect(await (await get('/readyz', null)).json()).toEqual({ ready: true, store: 'embedded' })
    const metrics = await (await get('/metrics', null)).text()
    expect(metrics).toMatch(
      /^weir_http_requests_total\{method="GET",route="\/v1\/:table",status="200"\} \d+$/m,
    )
    expect(metrics).toMatch(/weir_http_request_duration_seconds_bucket\{.*le="\+Inf"\} \d+/)
    expect((await get('/v1/nope/x', null)).status).toBe(404)
    expect((await get('/api/nope', null)).status).toBe(404)
  })
})

describe('weir serve (CLI)', () => {
  it('refuses to listen beyond loopback without API keys, in one line', async () => {
    const { weir } = await import('../helpers/cli.js')
    const dir = await tempDir('weir-serve-cli-')
    const r = await weir(['serve', '--host', '0.0.0.0', '--port', '0', '--lake', join(dir, 'lake')])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      'weir: serve: listening on 0.0.0.0 needs API keys (serve.keys); without them, listen on 127.0.0.1\n',
    )
  })
  it('fails in one line, password masked, when the serving store cannot be reached', async () => {
    const { weir } = await import('../helpers/cli.js')
    const { writeFile } = await import('node:fs/promises')
    const dir = await tempDir('weir-serve-pg-')
    await writeFile(
      join(dir, 'weir.json'),
      JSON.stringify({
        lake: './lake',
        sources: { x: { kind: 'demo', dataset: 'x' } },
        serve: {
          store: { kind: 'postgres', url: 'postgres://weir:pw-marker-77@127.0.0.1:1/weir' },
          tables: { tweets: { source: 'x', resource: 'tweets', key: 'id' } },
        },
      }),
    )
    const r = await weir(['serve', '--port', '0'], {}, dir)
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      'weir: serving store postgres://***@127.0.0.1:1/weir: cannot connect (connection refused)\n',
    )
  })
})

describe('the API under odd requests (fuzz)', () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  const send = (method: string, path: string, body?: string) =>
    fetch(`${s.url}${path}`, {
      method,
      headers: { 'x-api-key': KEYS.admin, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body } : {}),
    })

  it('forged cursors, odd limits, odd methods, encoded traversal: a 4xx each, never a 5xx', async () => {
    const cases: [string, string, number][] = [
      ...[
        'not-base64!!',
        b64([]),
        b64([{ a: 1 }]),
        b64(['x', 'y', 'z']),
        b64([1e308, null]),
        b64('x'),
        b64([[[]]]),
      ].map((c): [string, string, number] => [
        'GET',
        `/v1/tweets?author_id=eq:1&cursor=${encodeURIComponent(c)}`,
        400,
      ]),
      ...['0', '-1', '1e9', '0x10', '1.5', '99999999999', '', 'ten'].map((l): [string, string, number] => [
        'GET',
        `/v1/tweets?limit=${encodeURIComponent(l)}`,
        400,
      ]),
      ['POST', '/v1/tweets', 405],
      ['PUT', '/v1/tweets/1', 405],
      ['DELETE', '/v1/tweets/1', 405],
      ['PATCH', '/v1/tweets', 405],
      ['OPTIONS', '/v1/tweets', 405],
      ['GET', '/api/ui/tables/raw/..%2f..%2fetc', 404],
      ['GET', '/api/ui/tables/..%2f..%2f/passwd', 404],
      ['GET', '/api/ui/dashboards/..%2f..%2fetc%2fpasswd', 404],
      ['GET', '/v1/..%2f..%2fetc/passwd', 404],
      ['GET', '/v1/tweets?public_metrics.like_count=gt:', 400],
      ['GET', '/v1/tweets?author_id=in:,,', 400],
      ['GET', '/v1/tweets?public_metrics.like_count=gt:NaN', 400],
    ]
    for (const [method, path, want] of cases) {
      const res = await send(method, path)
      expect(res.status, `${method} ${path}`).toBe(want)
      const body = (await res.json()) as { error?: { code: string } }
      expect(body.error?.code, `${method} ${path}`).toBeTruthy()
    }
    // A known error answers with its code's status: a dashboard that does not exist is a 404.
    const missing = await send('GET', '/api/ui/dashboards/no_such_dashboard')
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({ error: { code: 'ui_not_found' } })
    // A method that is not allowed says which are.
    expect((await send('POST', '/v1/tweets', '{"a":1}')).headers.get('allow')).toBe('GET, HEAD')
    // A malformed escape in a front-end path is not a server error.
    expect((await send('GET', '/assets/%E0%A4%A')).status).toBeLessThan(500)
  })
})

describe('the workbench (POST /api/ui/query)', () => {
  const ask = (sql: string, signal?: AbortSignal) =>
    fetch(`${s.url}/api/ui/query`, {
      method: 'POST',
      headers: { 'x-api-key': KEYS.admin, 'content-type': 'application/json' },
      body: JSON.stringify({ sql }),
      ...(signal ? { signal } : {}),
    })
  // Long enough to outlive the test, short of the 30 s timeout only if something is wrong.
  const LONG = 'select count(*) from range(1000000000000) t(a) where a % 7 = 3'

  it('a long query does not hold up a short one, and queries whose client left are stopped', async () => {
    const gone = new AbortController()
    let settled = false
    const long = ask(LONG, gone.signal)
      .catch(() => undefined)
      .finally(() => {
        settled = true
      })
    await new Promise((r) => setTimeout(r, 300))
    const short = await ask('select 42 as n')
    expect(await short.json()).toMatchObject({ rows: [{ n: 42 }] })
    // The short one answered while the long one still ran (a count over 10^12 rows): it did not wait.
    expect(settled).toBe(false)
    // Four clients start long queries and leave: if their queries kept running, the pool (four
    // connections) would be full and the next query would wait for their 30 s timeout.
    gone.abort()
    await long
    const leavers = [1, 2, 3, 4].map(() => new AbortController())
    const left = leavers.map((a) => ask(LONG, a.signal).catch(() => undefined))
    await new Promise((r) => setTimeout(r, 300))
    for (const a of leavers) a.abort()
    await Promise.all(left)
    const after = await ask('select 7 as n', AbortSignal.timeout(10_000))
    expect(await after.json()).toMatchObject({ rows: [{ n: 7 }] })
  }, 30_000)

  it('refuses writes however they are dressed, before anything is created', async () => {
    for (const sql of [
      `EXPORT DATABASE '${lake}/exported'`,
      `/* hi */ EXPORT DATABASE '${lake}/exported'`,
      `; export database '${lake}/exported'`,
      `-- note\n  COPY (select 1) TO '${lake}/copied.csv'`,
      `select 1; EXPORT DATABASE '${lake}/exported'`,
      'PRAGMA version',
      'SET lock_configuration = false',
    ]) {
      const res = await ask(sql)
      expect(res.status, sql).toBe(400)
      expect(((await res.json()) as { error: { code: string } }).error.code, sql).toBe('query_failed')
    }
    expect(existsSync(join(lake, 'exported'))).toBe(false)
    expect(existsSync(join(lake, 'copied.csv'))).toBe(false)
    expect(readdirSync(lake).filter((f) => /export|copied/.test(f))).toEqual([])
  })

  it('names no path outside the lake in what it answers', async () => {
    const seen: string[] = []
    for (const sql of [
      'select * from duckdb_settings()',
      'select * from duckdb_extensions()',
      'select * from duckdb_databases()',
      "select current_setting('home_directory') as h",
    ]) {
      const body = (await (await ask(sql)).json()) as { rows: Record<string, unknown>[] }
      for (const row of body.rows)
        for (const v of Object.values(row))
          for (const m of JSON.stringify(v ?? '').matchAll(/(?<![\w.])\/[\w.-]+(?:\/[\w.-]*)*/g))
            seen.push(m[0])
    }
    expect(seen.length).toBeGreaterThan(0)
    const outside = seen.filter((path) => !path.startsWith(lake))
    expect(outside).toEqual([])
    expect(seen.some((path) => path.startsWith(homedir()) && !path.startsWith(lake))).toBe(false)
  })
})

describe('CORS and server errors', () => {
  it('answers a CORS preflight when CORS is configured, and logs a server-side failure with its cause', async () => {
    const { createApi } = await import('../../src/serve/api/app.js')
    const failures: string[] = []
    const broken: ServingStore = {
      ...s.store,
      query: () => Promise.reject(new Error('disk on fire')),
    }
    const app = createApi({
      store: broken,
      config: { ...p.config.serve, keys: [], cors: { origins: ['https://app.example'] } },
      onServerError: (method, path, err) => failures.push(`${method} ${path} ${(err as Error).message}`),
    })
    const pre = await app.request('/v1/tweets', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' },
    })
    expect(pre.status).toBeLessThan(300)
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(pre.headers.get('access-control-allow-methods')).toContain('GET')
    const res = await app.request('/v1/tweets')
    expect(res.status).toBe(500)
    expect(JSON.stringify(await res.json())).not.toContain('disk on fire')
    expect(failures).toEqual(['GET /v1/tweets disk on fire'])
  })
})
