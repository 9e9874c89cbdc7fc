import type { SimResponse } from './routes.js'

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

/** The first injected fault whose path and query match, counted down (gone when used up). */
export function takeFault(
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

/** A fault's answer: a 429 saying when to come back (in the API's own style) or an error. */
export function faultResponse(fault: Fault, status: number, url: string): SimResponse {
  const retry = fault.retryAfterSeconds ?? 1
  const headers: Record<string, string> =
    status !== 429
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
    status === 429
      ? { title: 'Too Many Requests', type: 'about:blank', status: 429, detail: 'Too Many Requests' }
      : { title: 'Error', status, detail: fault.echo ? `cannot serve ${url}` : 'simulated failure' }
  return { status, body, headers }
}
