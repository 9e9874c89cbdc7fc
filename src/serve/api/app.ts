import { Hono } from 'hono'
import { cors } from 'hono/cors'
import type { ServeConfig } from '../serve-schema.js'
import { CursorError, type ServingStore, type TableSpec } from '../stores/store.js'
import { ApiError } from './api-error.js'
import { docsPage } from './docs-page.js'
import { requestGuard } from './guard.js'
import { createAuthorizer } from './keys.js'
import { listQuery, project, selectOf } from './list-query.js'
import { createMetrics } from './metrics.js'
import { apiErrorHandler } from './on-error.js'
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
  const metrics = createMetrics()
  const app = new Hono()
  let mountUiLater: (() => void) | undefined

  app.onError(apiErrorHandler(opts.onServerError))
  app.notFound((c) =>
    c.json({ error: { code: 'not_found', message: `no route ${c.req.method} ${c.req.path}` } }, 404),
  )

  app.use(requestGuard(opts, config, metrics))
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

  const authorize = createAuthorizer(config)
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
    const query = listQuery(t, c.req.queries(), c.req.query('sort'), c.req.query('limit'), config)
    try {
      const cursor = c.req.query('cursor')
      const q = query
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
