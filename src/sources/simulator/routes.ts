import type { World } from './world.js'

/** A parsed request as a simulated API sees it. */
export interface SimRequest {
  readonly method: string
  readonly path: string
  readonly params: URLSearchParams
  readonly match: RegExpExecArray
  readonly now: number
  /** Request headers, lower-case names. Routes must never echo credentials. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
}

export interface SimResponse {
  readonly status: number
  readonly body: unknown
  readonly headers?: Readonly<Record<string, string>>
}

/** Which credential an API wants: X takes a bearer token, Tomorrow.io `apikey`, TMDB `api_key` or a bearer token. */
export type AuthStyle = 'x' | 'tomorrow' | 'tmdb' | 'none'

export interface Route {
  readonly api: 'x' | 'tomorrow' | 'openmeteo' | 'tmdb' | 'generic'
  readonly pattern: RegExp
  readonly auth: AuthStyle
  handle(req: SimRequest, world: World): SimResponse
}

export const ok = (body: unknown, headers?: Record<string, string>): SimResponse => ({
  status: 200,
  body,
  ...(headers ? { headers } : {}),
})

/** An integer query parameter within bounds, or the default. */
export function intParam(
  p: URLSearchParams,
  name: string,
  dflt: number,
  min: number,
  max: number,
): number | string {
  const raw = p.get(name)
  if (raw === null) return dflt
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max)
    return `The \`${name}\` query parameter value [${raw}] is not between ${min} and ${max}`
  return n
}

/** X's opaque pagination token: where the next page starts and the newest tweet of the first page. */
export function token(offset: number, anchor: number): string {
  return Buffer.from(`${offset}:${anchor}`).toString('base64url')
}

export function untoken(t: string | null): { offset: number; anchor: number } | undefined {
  if (!t) return undefined
  const m = /^(\d+):(\d+)$/.exec(Buffer.from(t, 'base64url').toString())
  return m ? { offset: Number(m[1]), anchor: Number(m[2]) } : undefined
}

export function xError(status: number, title: string, detail: string): SimResponse {
  return { status, body: { title, detail, type: 'about:blank', status } }
}
