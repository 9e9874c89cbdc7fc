import type { Context, Next } from 'hono'
import type { ServeConfig } from '../serve-schema.js'
import { ApiError } from './api-error.js'
import type { ApiOptions } from './app.js'
import type { createMetrics } from './metrics.js'

/** Read-only guard, access log and metrics for every request: methods, body and URL sizes checked first. */
export function requestGuard(
  opts: ApiOptions,
  config: ServeConfig,
  metrics: ReturnType<typeof createMetrics>,
) {
  return async (c: Context, next: Next) => {
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
  }
}
