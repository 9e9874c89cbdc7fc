import { readFile, stat } from 'node:fs/promises'
import { extname, join, normalize, resolve, sep } from 'node:path'
import type { Context, Hono } from 'hono'

/** What the dashboard asks of the pipeline: read-only views of its state, lake and queries. */
export interface UiBackend {
  overview(): Promise<unknown>
  tables(): Promise<unknown>
  table(zone: string, name: string): Promise<unknown>
  /** One read-only statement (the workbench), stopped when the signal aborts (the client left). */
  query(sql: string, signal?: AbortSignal): Promise<unknown>
  runs(): Promise<unknown>
  alerts(): Promise<unknown>
  dashboards(): Promise<readonly string[]>
  dashboard(name: string): Promise<unknown>
  /** The built front end (index.html and assets/). */
  readonly staticDir: string
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
}

/**
 * The dashboard's routes: its JSON API under /api/ui (the workbench's query is the one POST, with a
 * small body), and the built front end at / (files of the package only, no CDN).
 */
export function mountUi(
  app: Hono,
  ui: UiBackend,
  guard: (header: string | undefined, apiKey: string | undefined) => void,
): void {
  // Errors go to the API's one error handler, which answers each code with its status.
  const json = (handler: (c: Context) => Promise<unknown>) => async (c: Context) => {
    guard(c.req.header('authorization'), c.req.header('x-api-key'))
    return c.json((await handler(c)) as object)
  }
  app.get(
    '/api/ui/overview',
    json(() => ui.overview()),
  )
  app.get(
    '/api/ui/tables',
    json(() => ui.tables()),
  )
  app.get(
    '/api/ui/tables/:zone/:name',
    json((c) => ui.table(c.req.param('zone') ?? '', c.req.param('name') ?? '')),
  )
  app.get(
    '/api/ui/runs',
    json(() => ui.runs()),
  )
  app.get(
    '/api/ui/alerts',
    json(() => ui.alerts()),
  )
  app.get(
    '/api/ui/dashboards',
    json(async () => ({ dashboards: await ui.dashboards() })),
  )
  app.get(
    '/api/ui/dashboards/:name',
    json((c) => ui.dashboard(c.req.param('name') ?? '')),
  )
  app.post('/api/ui/query', async (c) => {
    guard(c.req.header('authorization'), c.req.header('x-api-key'))
    const body = (await c.req.json().catch(() => ({}))) as { sql?: unknown }
    if (typeof body.sql !== 'string' || !body.sql.trim())
      return c.json({ error: { code: 'bad_query', message: 'send { "sql": "select ..." }' } }, 400)
    try {
      return c.json((await ui.query(body.sql, c.req.raw.signal)) as object)
    } catch (err) {
      return c.json({ error: { code: 'query_failed', message: (err as Error).message.split('\n')[0] } }, 400)
    }
  })
  app.get('/*', async (c, next) => {
    // The API's own paths stay the API's (a JSON 404), never the app's page.
    if (/^\/(v1|api)(\/|$)/.test(c.req.path)) return next()
    // Only files under the front end's folder; anything else is the app (it routes by #hash).
    let decoded: string
    try {
      decoded = decodeURIComponent(c.req.path)
    } catch {
      decoded = '/' // a malformed %-escape names no file: the app
    }
    const rel = normalize(decoded).replace(/^([/\\])+/, '')
    const root = resolve(ui.staticDir)
    const file = join(root, rel)
    const inside = file.startsWith(root + sep) && (await stat(file).catch(() => undefined))?.isFile()
    const path = inside ? file : join(root, 'index.html')
    const body = await readFile(path).catch(() => undefined)
    if (!body) return c.text('the dashboard is not built: run npm run build', 404)
    return c.body(body, 200, {
      'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
    })
  })
}
