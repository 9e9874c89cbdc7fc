import { readFile, stat } from 'node:fs/promises'
import { extname, join, normalize, resolve, sep } from 'node:path'
import type { Context, Hono } from 'hono'
import { streamSSE } from 'hono/streaming'

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
  /** Sources → raw → trusted → models → served tables and the warehouse. */
  lineage(): Promise<unknown>
  /** Per table: rows, newest event, last file, lag, stale. */
  freshness(): Promise<unknown>
  /** The newest run in the history (its id changes when a run ends), for pushing refreshes. */
  latestRun(): Promise<{ readonly id: string; readonly job: string; readonly outcome: string } | undefined>
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
    '/api/ui/lineage',
    json(() => ui.lineage()),
  )
  app.get(
    '/api/ui/freshness',
    json(() => ui.freshness()),
  )
  mountEvents(app, ui, guard)
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
  mountStatic(app, ui.staticDir)
}

/** The built front end at / (files of the package only, no CDN); any other path is the app. */
function mountStatic(app: Hono, staticDir: string): void {
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
    const root = resolve(staticDir)
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

/**
 * A run that ends is pushed (Server-Sent Events), so pages refresh when the pipeline changed
 * something, not on a timer. EventSource sends no headers: the key may come as ?key=.
 */
function mountEvents(
  app: Hono,
  ui: UiBackend,
  guard: (header: string | undefined, apiKey: string | undefined) => void,
): void {
  const runs = runWatcher(ui)
  app.get('/api/ui/events', (c) => {
    guard(c.req.header('authorization'), c.req.header('x-api-key') ?? c.req.query('key'))
    return streamSSE(c, async (stream) => {
      const off = runs.subscribe((run) => void stream.writeSSE({ event: 'run', data: JSON.stringify(run) }))
      stream.onAbort(off)
      await stream.writeSSE({ event: 'ready', data: '{}' })
      while (!stream.aborted && !stream.closed)
        await stream.sleep(15_000).then(() => stream.writeSSE({ event: 'ping', data: '{}' }))
      off()
    })
  })
}

type Run = NonNullable<Awaited<ReturnType<UiBackend['latestRun']>>>

/**
 * One poll of the run history a second, shared by every open page, and only while one is open:
 * whichever process ran the job (this one, `weir run` elsewhere), its end reaches every browser.
 */
function runWatcher(ui: UiBackend) {
  const listeners = new Set<(run: Run) => void>()
  let timer: NodeJS.Timeout | undefined
  let last: string | undefined
  const poll = async () => {
    const run = await ui.latestRun().catch(() => undefined)
    if (run && last !== undefined && run.id !== last) for (const l of listeners) l(run)
    if (run) last = run.id
    else last ??= ''
  }
  return {
    subscribe(l: (run: Run) => void): () => void {
      listeners.add(l)
      if (!timer) {
        void poll()
        timer = setInterval(() => void poll(), 1_000)
        timer.unref()
      }
      return () => {
        listeners.delete(l)
        if (!listeners.size && timer) {
          clearInterval(timer)
          timer = undefined
          last = undefined
        }
      }
    },
  }
}
