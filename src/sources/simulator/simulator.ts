import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { sleep } from '../../core/time.js'
import { genericRoutes } from './generic-api.js'
import type { Route, SimRequest, SimResponse } from './routes.js'
import { tmdbRoutes } from './tmdb-api.js'
import { weatherRoutes } from './weather-api.js'
import { createWorld, type World } from './world.js'
import { xRoutes } from './x-api.js'

const ROUTES: readonly Route[] = [...xRoutes, ...weatherRoutes, ...tmdbRoutes, ...genericRoutes]
/** Query parameters that carry credentials: never stored in the request log. */
const SECRET_PARAMS = /^(api_?key|apikey|key|token|access_token|client_secret|password)$/i
const X_WINDOW = 15 * 60_000

/** A fault to serve instead of the real answer, for the next `count` requests whose path matches. */
export interface Fault {
  readonly path?: string | RegExp
  /** Only requests whose query this accepts (e.g. a second page: `q => Boolean(q.next_token)`). */
  readonly query?: (query: Readonly<Record<string, string>>) => boolean
  /** 429 and 5xx are the usual; 0 with `truncate` sends half a body then closes the connection. */
  readonly status?: number
  readonly count?: number
  /** How a 429 says when to come back. */
  readonly style?: 'retry-after' | 'x-rate-limit' | 'ratelimit'
  readonly retryAfterSeconds?: number
  /** Answer this late (ms), e.g. to trip a client's timeout. */
  readonly delayMs?: number
  /** Send a 200 whose JSON body is cut in half. */
  readonly truncate?: boolean
  /** Put the full request URL, credentials included, in the error body, as some APIs do. */
  readonly echo?: boolean
}

/** One request as the simulator served it; credentials are replaced by `***`. */
export interface LoggedRequest {
  readonly method: string
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  readonly status: number
  readonly at: number
}

export interface SimulatorOptions {
  readonly port?: number
  readonly host?: string
  readonly seed?: number
  readonly tweetsPerHour?: number
  readonly historyDays?: number
  readonly users?: number
  /** The clock the data follows; tests pass their own to make "new data over time" exact. */
  readonly now?: () => number
  /** Share of requests answered with a random 429 or 500 (0..1), for `weir simulate --fail-rate`. */
  readonly failRate?: number
  /** Added latency per request, ms. */
  readonly latencyMs?: number
  /** Keep at most this many log entries (the oldest go first). */
  readonly logLimit?: number
}

/**
 * Faithful local fakes of the APIs the seeds pull: X v2 (search, users, user tweets, lookup, with
 * `data`/`includes`/`meta`/`errors`, tokens, `since_id` and rate-limit headers), Tomorrow.io
 * realtime/forecast, Open-Meteo forecast and TMDB find/details/credits/reviews. Deterministic for a
 * seed and a clock; faults can be injected; every request is logged with credentials redacted.
 *
 * @example
 * const sim = await startSimulator({ port: 0 })
 * // point a preset at sim.url, then inspect sim.requests
 */
export interface Simulator {
  readonly url: string
  readonly port: number
  readonly world: World
  readonly requests: readonly LoggedRequest[]
  /** The most requests that were being answered at the same time. */
  readonly maxInFlight: number
  inject(fault: Fault): void
  clearFaults(): void
  close(): Promise<void>
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const now = options.now ?? Date.now
  const world = createWorld({
    seed: options.seed ?? 42,
    tweetsPerHour: options.tweetsPerHour ?? 60,
    historyDays: options.historyDays ?? 3,
    users: options.users ?? 50,
    start: now(),
  })
  const requests: LoggedRequest[] = []
  const faults: { fault: Fault; left: number }[] = []
  const xCalls = new Map<number, number>()
  let rnd = options.seed ?? 42

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://sim')
    const t = now()
    const log = (status: number) => {
      const query: Record<string, string> = {}
      for (const [k, v] of url.searchParams) query[k] = SECRET_PARAMS.test(k) ? '***' : v
      requests.push({ method: req.method ?? 'GET', path: url.pathname, query, status, at: t })
      if (requests.length > (options.logLimit ?? 100_000)) requests.shift()
    }
    if (url.pathname === '/oauth2/token') {
      const r = token(req, await body(req))
      log(r.status)
      res.writeHead(r.status, { 'content-type': 'application/json; charset=utf-8' })
      res.end(JSON.stringify(r.body))
      return
    }
    let route: Route | undefined
    let match: RegExpExecArray | null = null
    for (const r of ROUTES) {
      match = r.pattern.exec(url.pathname)
      if (match) {
        route = r
        break
      }
    }
    const send = (r: SimResponse, extra: Record<string, string> = {}) => {
      log(r.status)
      res.writeHead(r.status, { 'content-type': 'application/json; charset=utf-8', ...extra, ...r.headers })
      res.end(JSON.stringify(r.body))
    }
    if (!route || !match) return send({ status: 404, body: { error: `no route for ${url.pathname}` } })
    const denied = checkAuth(route, req, url.searchParams)
    if (denied) return send(denied)

    const headers: Record<string, string> = {}
    if (route.api === 'x') {
      // X reports its 15-minute window on every answer; the simulator counts but never enforces it.
      // Rate-limit windows are wall-clock time, whatever clock the data follows.
      const window = Math.floor(Date.now() / X_WINDOW)
      const used = (xCalls.get(window) ?? 0) + 1
      xCalls.set(window, used)
      headers['x-rate-limit-limit'] = '450'
      headers['x-rate-limit-remaining'] = String(Math.max(0, 450 - used))
      headers['x-rate-limit-reset'] = String(((window + 1) * X_WINDOW) / 1000)
    }
    if (options.latencyMs) await sleep(options.latencyMs)
    const sim: SimRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      params: url.searchParams,
      match,
      now: t,
      headers: req.headers,
    }
    const fault = takeFault(faults, url.pathname, Object.fromEntries(url.searchParams)) ?? randomFault()
    if (fault) {
      if (fault.delayMs) await sleep(fault.delayMs)
      if (fault.truncate) {
        const body = JSON.stringify(route.handle(sim, world).body)
        log(200)
        res.writeHead(200, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': String(body.length),
        })
        res.write(body.slice(0, Math.floor(body.length / 2)))
        res.destroy()
        return
      }
      if (fault.status) {
        const retry = fault.retryAfterSeconds ?? 1
        const h: Record<string, string> =
          fault.status !== 429
            ? {}
            : fault.style === 'x-rate-limit'
              ? {
                  'x-rate-limit-remaining': '0',
                  'x-rate-limit-reset': String(Math.ceil(Date.now() / 1000) + retry),
                }
              : fault.style === 'ratelimit'
                ? { 'ratelimit-limit': '40', 'ratelimit-remaining': '0', 'ratelimit-reset': String(retry) }
                : { 'retry-after': String(retry) }
        const body =
          fault.status === 429
            ? { title: 'Too Many Requests', type: 'about:blank', status: 429, detail: 'Too Many Requests' }
            : {
                title: 'Error',
                status: fault.status,
                detail: fault.echo ? `cannot serve ${req.url}` : 'simulated failure',
              }
        return send({ status: fault.status, body, headers: { ...headers, ...h } })
      }
    }
    send(route.handle(sim, world), headers)
  }

  const randomFault = (): Fault | undefined => {
    if (!options.failRate) return undefined
    rnd = (rnd * 1_103_515_245 + 12_345) % 2 ** 31
    if (rnd / 2 ** 31 >= options.failRate) return undefined
    return rnd % 2 ? { status: 429, style: 'retry-after', retryAfterSeconds: 1 } : { status: 500 }
  }

  let inFlight = 0
  let maxInFlight = 0
  const server = createServer((req, res) => {
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    res.once('close', () => inFlight--)
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: String(err) }))
    })
  })
  server.keepAliveTimeout = 30_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    world,
    requests,
    get maxInFlight() {
      return maxInFlight
    },
    inject: (fault) => faults.push({ fault, left: fault.count ?? 1 }),
    clearFaults: () => {
      faults.length = 0
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function takeFault(
  faults: { fault: Fault; left: number }[],
  path: string,
  query: Record<string, string>,
): Fault | undefined {
  const matches = (f: Fault) =>
    (!f.path || (typeof f.path === 'string' ? path.includes(f.path) : f.path.test(path))) &&
    (!f.query || f.query(query))
  const i = faults.findIndex((f) => matches(f.fault))
  if (i < 0) return undefined
  const f = faults[i]!
  if (--f.left <= 0) faults.splice(i, 1)
  return f.fault
}

/** X's OAuth2 client-credentials grant: client id and secret in Basic auth, a bearer token back. */
function token(req: IncomingMessage, form: string): SimResponse {
  const basic = /^Basic (\S+)/.exec(req.headers.authorization ?? '')?.[1]
  const [id, secret] = basic ? Buffer.from(basic, 'base64').toString().split(':') : []
  if (req.method !== 'POST' || !id || !secret) {
    return {
      status: 401,
      body: { error: 'invalid_client', error_description: 'client authentication failed' },
    }
  }
  if (new URLSearchParams(form).get('grant_type') !== 'client_credentials') {
    return { status: 400, body: { error: 'unsupported_grant_type' } }
  }
  return {
    status: 200,
    body: { token_type: 'bearer', access_token: `sim-${Buffer.from(id).toString('hex')}`, expires_in: 7200 },
  }
}

async function body(req: IncomingMessage): Promise<string> {
  let s = ''
  for await (const chunk of req) s += chunk
  return s
}

/** Any non-empty credential is accepted, but it must be sent the way the real API wants it. */
function checkAuth(route: Route, req: IncomingMessage, params: URLSearchParams): SimResponse | undefined {
  const bearer = /^Bearer \S+/.test(req.headers.authorization ?? '')
  if (route.auth === 'x' && !bearer) {
    return {
      status: 401,
      body: { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' },
    }
  }
  if (route.auth === 'tomorrow' && !params.get('apikey')) {
    return {
      status: 401,
      body: {
        code: 401001,
        type: 'Invalid Auth',
        message: 'The method requires authentication but it was not presented or is invalid.',
      },
    }
  }
  if (route.auth === 'tmdb' && !params.get('api_key') && !bearer) {
    return {
      status: 401,
      body: {
        status_code: 7,
        status_message: 'Invalid API key: You must be granted a valid key.',
        success: false,
      },
    }
  }
  return undefined
}
