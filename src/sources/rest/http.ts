import { WeirError } from '../../core/errors.js'
import { onAbort, sleep } from '../../core/time.js'
import type { Auth } from './auth.js'
import type { Budget } from './budget.js'

export interface HttpOptions {
  readonly source: string
  readonly timeoutMs: number
  readonly attempts: number
  readonly baseDelayMs: number
  readonly maxDelayMs: number
  /** Longest wait a 429 may impose; beyond it the run ends as partial. */
  readonly maxWaitMs: number
  readonly auth: Auth
  readonly budget: Budget
  readonly signal: AbortSignal
  readonly headers: Readonly<Record<string, string>>
}

export interface HttpResponse {
  readonly status: number
  readonly headers: Headers
  readonly body: unknown
}

/**
 * GETs JSON with the faults of real APIs handled: 429 waits as the server says (Retry-After,
 * X's x-rate-limit-reset, RateLimit-Reset); 5xx, timeouts, dropped connections and cut-off bodies
 * back off exponentially with full jitter. Retry policy is this module's own because most of it is
 * reading rate-limit headers, which retry libraries do not do. Messages name the endpoint, never the URL,
 * and never a credential.
 */
export function createHttp(o: HttpOptions) {
  return {
    async get(
      label: string,
      url: URL,
      extraHeaders: Readonly<Record<string, string>> = {},
    ): Promise<HttpResponse> {
      let last = ''
      for (let attempt = 1; attempt <= o.attempts; attempt++) {
        await o.budget.take(o.maxWaitMs, o.signal)
        const u = new URL(url)
        const headers = new Headers({ ...o.headers, ...extraHeaders })
        headers.set('accept', 'application/json')
        await o.auth.apply(u, headers, o.signal)
        let wait: number
        // One controller and timer per request, cleared on answer: cheaper than AbortSignal.any
        // with AbortSignal.timeout, which keeps a timer and listeners alive for the whole timeout.
        const ac = new AbortController()
        const timer = setTimeout(() => ac.abort(new DOMException('timed out', 'TimeoutError')), o.timeoutMs)
        const unlisten = onAbort(o.signal, () => ac.abort(o.signal.reason))
        try {
          const res = await fetch(u, { headers, signal: ac.signal })
          const out = answer(res, await res.text(), attempt, o, label, u)
          if ('response' in out) return out.response
          ;({ wait, last } = out)
        } catch (err) {
          if (err instanceof WeirError || o.signal.aborted) throw err
          last = noAnswer(err, o, label, u)
          wait = backoff(attempt, o)
        } finally {
          clearTimeout(timer)
          unlisten()
        }
        if (attempt < o.attempts) {
          await sleep(wait, o.signal)
          if (o.signal.aborted) throw o.signal.reason
        }
      }
      throw new WeirError(`source ${o.source}: ${label} failed after ${o.attempts} attempts: ${last}`, {
        code: 'SOURCE_HTTP',
        stage: 'source',
        retryable: true,
      })
    },
  }
}

/** A URL as it may be shown: a password in it and query values of credential-like names as `***`. */
export function masked(u: URL): string {
  const out = new URL(u)
  if (out.password) out.password = '***'
  for (const k of [...out.searchParams.keys()])
    if (/(key|token|secret|password|auth|sig|credential)/i.test(k)) out.searchParams.set(k, '***')
  return out.toString().replaceAll('%2A%2A%2A', '***')
}

/** Full jitter (AWS architecture blog): a random wait up to the exponential cap spreads retries out. */
/** What an answer means: the response, or how long to wait before the next try and why; throws when no retry can help. */
function answer(
  res: Response,
  text: string,
  attempt: number,
  o: HttpOptions,
  label: string,
  u: URL,
): { response: HttpResponse } | { wait: number; last: string } {
  if (res.ok) {
    try {
      return { response: { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null } }
    } catch {
      return { last: `HTTP ${res.status} with a body that is not complete JSON`, wait: backoff(attempt, o) }
    }
  }
  if (res.status === 429) {
    const wait = retryAfter(res.headers) ?? backoff(attempt, o)
    if (wait > o.maxWaitMs) {
      throw new WeirError(
        `source ${o.source}: ${label} is rate limited for ${Math.ceil(wait / 1000)} s; the run is partial and resumes later`,
        { code: 'SOURCE_BUDGET_EXHAUSTED', stage: 'source' },
      )
    }
    return { wait, last: 'HTTP 429 Too Many Requests' }
  }
  if (res.status >= 500 || res.status === 408)
    return { last: `HTTP ${res.status}${snippet(text)}`, wait: backoff(attempt, o) }
  if (res.status === 401 && attempt === 1) {
    // An expired OAuth2 token: fetch a new one once.
    o.auth.invalidate()
    return { last: `HTTP 401${snippet(text)}`, wait: 0 }
  }
  throw new WeirError(
    `source ${o.source}: ${label} was refused: HTTP ${res.status}${snippet(text)}${hint(res.status)} (sent: ${masked(u)})`,
    { code: 'SOURCE_HTTP', stage: 'source' },
  )
}

/** A request that got no answer: why, for the next try; throws when waiting cannot help. */
function noAnswer(err: unknown, o: HttpOptions, label: string, u: URL): string {
  const e = err as Error & { cause?: { code?: string; message?: string } }
  const code = e.cause?.code
  if (e.cause?.message === 'bad port')
    // fetch refuses some ports outright (1, 25, 6000, ...: the WHATWG list): no retry helps.
    throw new WeirError(
      `source ${o.source}: ${label}: port ${u.port} of ${u.hostname} is one fetch refuses to connect to; use another port`,
      { code: 'SOURCE_CONNECT', stage: 'source' },
    )
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    // Nothing listens there (or no such host): waiting out six backoffs would only hide it.
    throw new WeirError(
      `source ${o.source}: ${label}: cannot connect to ${u.host} (${code === 'ECONNREFUSED' ? 'connection refused' : 'host not found'}) at ${masked(u)}; check baseUrl${code === 'ECONNREFUSED' ? ' and that the server is up' : ''}`,
      { code: 'SOURCE_CONNECT', stage: 'source', retryable: true, cause: err },
    )
  }
  return e.name === 'TimeoutError'
    ? `timed out after ${o.timeoutMs} ms`
    : `${e.cause?.code ?? e.name}: ${e.cause?.message ?? e.message}`
}

function backoff(attempt: number, o: HttpOptions): number {
  return Math.random() * Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** (attempt - 1))
}

/** How long a 429 asks to wait, from the headers APIs use; undefined when none says. */
export function retryAfter(h: Headers, now = Date.now()): number | undefined {
  const ra = h.get('retry-after')
  if (ra) {
    const s = Number(ra)
    if (Number.isFinite(s)) return Math.max(0, s * 1000)
    const at = Date.parse(ra)
    if (!Number.isNaN(at)) return Math.max(0, at - now)
  }
  // X: the epoch second its 15-minute window resets.
  const xReset = h.get('x-rate-limit-reset')
  if (xReset && h.get('x-rate-limit-remaining') === '0') return Math.max(0, Number(xReset) * 1000 - now)
  // IETF RateLimit headers: seconds until the quota resets.
  const rlReset = h.get('ratelimit-reset')
  if (rlReset && Number.isFinite(Number(rlReset))) return Math.max(0, Number(rlReset) * 1000)
  return undefined
}

/** A response body as a message may quote it: one line, at most 160 characters. */
export function snippet(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim()
  return t ? `: ${t.length > 160 ? `${t.slice(0, 157)}...` : t}` : ''
}

/** What to check for a refusal no retry can help. */
export function hint(status: number): string {
  if (status === 401 || status === 403) return ' (check the credentials in auth)'
  if (status === 404) return ' (check baseUrl and path)'
  return ''
}
