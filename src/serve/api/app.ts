import { createHash, timingSafeEqual } from 'node:crypto'
import { Hono } from 'hono'
import { cors } from 'hono/cors'
import { httpStatus } from '../../core/error-codes.js'
import { WeirError } from '../../core/errors.js'
import { parseDuration } from '../../core/units.js'
import type { ServeConfig } from '../serve-schema.js'
import { type Condition, CursorError, type ServingStore, type TableSpec } from '../stores/store.js'
import { createMetrics } from './metrics.js'
import { openapi } from './openapi.js'
import { mountUi, type UiBackend } from './ui.js'

export interface ApiOptions {
  readonly store: ServingStore
  readonly config: ServeConfig
  /** The dashboard (its API and front end), when served. */
  readonly ui?: UiBackend
  /** One line per request (method, path, status, ms, key name), never the key. */
  readonly log?: (line: {
    method: string
    path: string
    status: number
    ms: number
    key: string | null
  }) => void
  /** Told of every request that failed on the server's side (a 500), with its cause. Default: stderr. */
  readonly onServerError?: (method: string, path: string, err: unknown) => void
}

const OPS = ['eq', 'in', 'gt', 'gte', 'lt', 'lte', 'prefix'] as const
const RESERVED = new Set(['select', 'sort', 'limit', 'cursor'])

class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 413 | 414 | 429,
    readonly code: string,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message)
  }
}

/**
 * The read-only HTTP API (Hono): `GET /v1/<table>/<key>`, `GET /v1/<table>?<index>=<op>:<value>`
 * with field selection, sort on the index, opaque cursors and a page cap; `/openapi.json` (3.1),
 * `/docs`, `/healthz`, `/readyz`, `/metrics`. Every value reaches the store as a parameter; keys
 * are compared by hash in constant time; errors are JSON `{ error: { code, message } }`.
 */
export function createApi(opts: ApiOptions): Hono {
  const { store, config } = opts
  const tables = new Map<string, TableSpec>(
    Object.entries(config.tables).map(([name, t]) => [name, { name, indexes: t.indexes }]),
  )
  const keys = config.keys.map((k) => ({
    name: k.name,
    hash: Buffer.from(k.sha256 ?? sha256(k.key!), 'hex'),
    scopes: new Set(k.scopes),
    limit: k.rateLimit ? { count: k.rateLimit.count, per: parseDuration(k.rateLimit.per) } : undefined,
    recent: [] as number[],
  }))
  const metrics = createMetrics()
  const app = new Hono()
  let mountUiLater: (() => void) | undefined

  app.onError((err, c) => {
    if (err instanceof ApiError) {
      if (err.retryAfter !== undefined) c.header('retry-after', String(err.retryAfter))
      return c.json({ error: { code: err.code, message: err.message } }, err.status)
    }
    // A Weir error the client caused (a name the lake does not have, a bad request) is its status;
    // anything else is the server's failure: logged with its cause, and not shown.
    const code = (err as { code?: unknown }).code
    const status = err instanceof WeirError ? httpStatus(code) : 500
    if (status < 500)
      return c.json(
        { error: { code: String(code).toLowerCase(), message: err.message.split('\n')[0] } },
        status,
      )
    const report =
      opts.onServerError ??
      ((method: string, path: string, e: unknown) =>
        process.stderr.write(
          `weir serve: ${method} ${path} failed: ${(e as Error)?.message?.split('\n')[0] ?? String(e)}\n`,
        ))
    report(c.req.method, c.req.path, err)
    return c.json(
      { error: { code: 'internal', message: 'the request failed; see the server log' } },
      status as 500 | 502 | 503,
    )
  })
  app.notFound((c) =>
    c.json({ error: { code: 'not_found', message: `no route ${c.req.method} ${c.req.path}` } }, 404),
  )

  // Access log and metrics for every request.
  app.use(async (c, next) => {
    const t0 = performance.now()
    if (c.req.url.length > 8192)
      throw new ApiError(414, 'uri_too_long', 'the request line is longer than 8 KB')
    // Read-only: GET (and HEAD) everywhere, OPTIONS for CORS, POST only for the workbench's query.
    const allowed = c.req.path === '/api/ui/query' && opts.ui ? ['POST'] : ['GET', 'HEAD']
    if (config.cors && c.req.path.startsWith('/v1/')) allowed.push('OPTIONS')
    if (!allowed.includes(c.req.method)) {
      c.header('allow', allowed.join(', '))
      throw new ApiError(
        405,
        'method_not_allowed',
        `${c.req.method} is not allowed here; use ${allowed.join(' or ')}`,
      )
    }
    // Read-only: no bodies, but the workbench's query (a few KB of SQL).
    const length = Number(c.req.header('content-length') ?? 0)
    if (length > (opts.ui && c.req.method === 'POST' && c.req.path === '/api/ui/query' ? 65_536 : 0))
      throw new ApiError(
        413,
        'body_too_large',
        'this API is read-only: requests carry no body (a workbench query: 64 KB at most)',
      )
    await next()
    const ms = performance.now() - t0
    const route = c.req.routePath
    metrics.observe(c.req.method, route, c.res.status, ms)
    opts.log?.({
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms,
      key: (c.get('keyName' as never) as string | undefined) ?? null,
    })
  })
  if (config.cors) app.use('/v1/*', cors({ origin: config.cors.origins, allowMethods: ['GET'] }))

  app.get('/healthz', (c) => c.json({ ok: true }))
  app.get('/readyz', async (c) => {
    try {
      await store.ping()
      return c.json({ ready: true, store: store.kind })
    } catch {
      return c.json({ ready: false, store: store.kind }, 503)
    }
  })
  app.get('/metrics', (c) => c.text(metrics.text(), 200, { 'content-type': 'text/plain; version=0.0.4' }))
  app.get('/openapi.json', (c) => c.json(openapi(config)))
  app.get('/docs', (c) => c.html(docsPage(config)))

  /** The caller's key, when keys are configured: 401 without one, 403 out of scope, 429 over its rate. */
  const authorize = (
    header: string | undefined,
    apiKey: string | undefined,
    table: string,
  ): string | null => {
    if (!keys.length) return null
    const given = apiKey ?? (header?.startsWith('Bearer ') ? header.slice(7) : undefined)
    if (!given)
      throw new ApiError(
        401,
        'unauthorized',
        'an API key is required: send it as X-API-Key or Authorization: Bearer',
      )
    const hash = Buffer.from(sha256(given), 'hex')
    const key = keys.find((k) => timingSafeEqual(k.hash, hash))
    if (!key) throw new ApiError(401, 'unauthorized', 'the API key is not valid')
    if (!key.scopes.has('*') && !key.scopes.has(table))
      throw new ApiError(403, 'forbidden', `this key may not read ${table}`)
    if (key.limit) {
      const now = Date.now()
      key.recent = key.recent.filter((t) => now - t < key.limit!.per)
      if (key.recent.length >= key.limit.count) {
        const wait = Math.ceil((key.limit.per - (now - key.recent[0]!)) / 1000)
        throw new ApiError(
          429,
          'rate_limited',
          `more than ${key.limit.count} requests in ${key.limit.per / 1000} s for this key`,
          wait,
        )
      }
      key.recent.push(now)
    }
    return key.name
  }
  const tableOf = (name: string): TableSpec => {
    const t = tables.get(name)
    if (!t)
      throw new ApiError(
        404,
        'not_found',
        `no table ${name}; tables: ${[...tables.keys()].join(', ') || 'none'}`,
      )
    return t
  }

  if (opts.ui) {
    mountUiLater = () =>
      mountUi(app, opts.ui!, (header, apiKey) => {
        authorize(header, apiKey, 'ui')
      })
  }

  app.get('/v1/:table/:key', async (c) => {
    const t = tableOf(c.req.param('table'))
    c.set(
      'keyName' as never,
      authorize(c.req.header('authorization'), c.req.header('x-api-key'), t.name) as never,
    )
    const item = await store.get(t, c.req.param('key'))
    if (!item) throw new ApiError(404, 'not_found', `no item ${c.req.param('key')} in ${t.name}`)
    return c.json(project(item, selectOf(c.req.query('select'))))
  })

  app.get('/v1/:table', async (c) => {
    const t = tableOf(c.req.param('table'))
    c.set(
      'keyName' as never,
      authorize(c.req.header('authorization'), c.req.header('x-api-key'), t.name) as never,
    )
    const params = c.req.queries()
    const filters = Object.keys(params).filter((p) => !RESERVED.has(p))
    if (filters.length > 1)
      throw new ApiError(400, 'bad_filter', `one filter at a time; got ${filters.join(', ')}`)
    let index: string | undefined
    let where: Condition | undefined
    for (const f of filters) {
      const type = t.indexes[f]
      if (!type) {
        throw new ApiError(
          400,
          'bad_filter',
          `parameter '${f}': not an indexed field of ${t.name} (indexed: ${Object.keys(t.indexes).join(', ') || 'none'})`,
        )
      }
      if (params[f]!.length > 1)
        throw new ApiError(400, 'bad_filter', `parameter '${f}': given more than once`)
      index = f
      where = condition(f, type, params[f]![0]!)
    }
    const sort = c.req.query('sort')
    let desc = false
    if (sort) {
      const field = sort.replace(/^-/, '')
      desc = sort.startsWith('-')
      if (!t.indexes[field])
        throw new ApiError(400, 'bad_sort', `parameter 'sort': ${field} is not an indexed field of ${t.name}`)
      if (index && index !== field)
        throw new ApiError(400, 'bad_sort', `parameter 'sort': sort by the filtered field (${index})`)
      index = field
    }
    const limitText = c.req.query('limit')
    // Digits only: 1e9, 0x10 or 1.0 are not what a client meant to send.
    if (limitText !== undefined && !/^[1-9]\d{0,8}$/.test(limitText))
      throw new ApiError(400, 'bad_limit', `parameter 'limit': a whole number from 1 to ${config.maxLimit}`)
    const limit = limitText === undefined ? config.defaultLimit : Number(limitText)
    try {
      const cursor = c.req.query('cursor')
      const q = {
        ...(index ? { index } : {}),
        ...(where ? { where } : {}),
        desc,
        limit: Math.min(limit, config.maxLimit),
      }
      const page = await store
        .query(t, { ...q, ...(cursor ? { cursor } : {}) })
        .catch(async (err: unknown) => {
          // A cursor that decodes but is not one the store gave out fails inside the store: if the
          // same query without it works, the cursor was at fault (a 400), not the server.
          if (!cursor || err instanceof CursorError) throw err
          await store.query(t, { ...q, limit: 1 })
          throw new CursorError()
        })
      const select = selectOf(c.req.query('select'))
      return c.json({
        items: page.items.map((i) => project(i.item, select)),
        ...(page.cursor ? { next: page.cursor } : {}),
      })
    } catch (err) {
      if (err instanceof CursorError)
        throw new ApiError(400, 'bad_cursor', `parameter 'cursor': ${err.message}`)
      throw err
    }
  })
  // The dashboard's catch-all route comes last, after the API's.
  mountUiLater?.()
  return app
}

function condition(field: string, type: 'string' | 'number', raw: string): Condition {
  const m = /^([a-z]+):(.*)$/s.exec(raw)
  const op = (m && (OPS as readonly string[]).includes(m[1]!) ? m[1] : 'eq') as (typeof OPS)[number]
  const text = m && (OPS as readonly string[]).includes(m[1]!) ? m[2]! : raw
  const value = (v: string) => {
    if (type === 'string') return v
    const n = Number(v)
    if (v.trim() === '' || !Number.isFinite(n))
      throw new ApiError(400, 'bad_filter', `parameter '${field}': "${v}" is not a number`)
    return n
  }
  if (op === 'in') {
    const values = text.split(',').filter((v) => v !== '')
    if (!values.length || values.length > 100)
      throw new ApiError(400, 'bad_filter', `parameter '${field}': in: takes 1 to 100 comma-separated values`)
    return { op, values: values.map(value) }
  }
  if (op === 'prefix') {
    if (type !== 'string')
      throw new ApiError(400, 'bad_filter', `parameter '${field}': prefix: needs a text field`)
    return { op, value: text }
  }
  return { op, value: value(text) }
}

function selectOf(select: string | undefined): string[] | undefined {
  if (!select) return undefined
  const fields = select.split(',').filter(Boolean)
  for (const f of fields)
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(f))
      throw new ApiError(400, 'bad_select', `parameter 'select': "${f}" is not a field name`)
  return fields
}

function project(item: Readonly<Record<string, unknown>>, fields: string[] | undefined) {
  if (!fields) return item
  return Object.fromEntries(fields.filter((f) => Object.hasOwn(item, f)).map((f) => [f, item[f]]))
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

function docsPage(config: ServeConfig): string {
  const esc = (s: string) =>
    s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!)
  const rows = Object.entries(config.tables)
    .map(
      ([name, t]) =>
        `<h2>${esc(name)}</h2><p>From ${esc(t.source)}${t.resource ? `.${esc(t.resource)}` : ''}; key ${esc(t.key ?? 'a hash of the record')}.</p>
<ul><li><code>GET /v1/${esc(name)}/{key}</code></li><li><code>GET /v1/${esc(name)}?${
          Object.keys(t.indexes)
            .map((f) => `${esc(f)}=eq:…`)
            .join(' | ') || '…'
        }&amp;limit=100&amp;cursor=…</code></li></ul>`,
    )
    .join('\n')
  return `<!doctype html><html><head><meta charset="utf-8"><title>Weir API</title></head><body><h1>Weir API</h1>
<p>Read-only. Filters: <code>field=eq:v</code> (or <code>field=v</code>), <code>in:a,b</code>, <code>gt:</code>, <code>gte:</code>, <code>lt:</code>, <code>lte:</code>, <code>prefix:</code> on indexed fields; <code>select=a,b</code>; <code>sort=field</code> or <code>-field</code>; <code>limit</code>; <code>cursor</code> from <code>next</code>. The machine-readable description is <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
${rows}</body></html>`
}
