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

const KEYS = { reader: 'k-reader-0123456789', other: 'k-other-0123456789', limited: 'k-limited-0123456789' }
let p: Pipeline
let s: Serving
const tweets: TableSpec = {
  name: 'tweets',
  indexes: { author_id: 'string', created_at: 'string', 'public_metrics.like_count': 'number' },
}

beforeAll(async () => {
  const lake = join(await tempDir('weir-serve-'), 'lake')
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
})
