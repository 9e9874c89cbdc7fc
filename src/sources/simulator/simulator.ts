import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { sleep } from '../../core/time.js'
import { type Fault, faultResponse, takeFault } from './faults.js'
import { genericRoutes } from './generic-api.js'
import type { Route, SimRequest, SimResponse } from './routes.js'
import { body, checkAuth, token } from './sim-auth.js'
import { createStreamApi, type StreamApi, type StreamFeedOptions } from './stream-api.js'
import { tmdbRoutes } from './tmdb-api.js'
import { weatherRoutes } from './weather-api.js'
import { createWorld, type World } from './world.js'
import { xRoutes } from './x-api.js'

export type { Fault } from './faults.js'

const ROUTES: readonly Route[] = [...xRoutes, ...weatherRoutes, ...tmdbRoutes, ...genericRoutes]
/** Query parameters that carry credentials: never stored in the request log. */
const SECRET_PARAMS = /^(api_?key|apikey|key|token|access_token|client_secret|password)$/i
const X_WINDOW = 15 * 60_000

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
  /** How the long-lived endpoints (X's filtered stream, the SSE feed) flow. */
  readonly streams?: StreamFeedOptions
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
  /** The filtered stream's rules, and `disconnect()` to drop every open stream connection. */
  readonly streams: StreamApi
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
  const streams = createStreamApi(world, options.seed ?? 42, options.streams)
  const handle = createHandler(world, options, requests, faults, now, streams)

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
    streams,
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

/** The simulator's request handler: log, route, authenticate, rate-limit headers, faults, answer. */
function createHandler(
  world: World,
  options: SimulatorOptions,
  requests: LoggedRequest[],
  faults: { fault: Fault; left: number }[],
  now: () => number,
  streams: StreamApi,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
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
    if (streams.paths.includes(url.pathname)) return streams.serve(req, res, url, log, faults)
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
      if (fault.status) return send(faultResponse(fault, fault.status, req.url ?? ''), headers)
    }
    send(route.handle(sim, world), headers)
  }

  const randomFault = (): Fault | undefined => {
    if (!options.failRate) return undefined
    rnd = (rnd * 1_103_515_245 + 12_345) % 2 ** 31
    if (rnd / 2 ** 31 >= options.failRate) return undefined
    return rnd % 2 ? { status: 429, style: 'retry-after', retryAfterSeconds: 1 } : { status: 500 }
  }
  return handle
}
