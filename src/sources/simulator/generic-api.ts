import { intParam, ok, type Route } from './routes.js'

const TOTAL = 537
const item = (i: number) => ({
  id: i,
  name: `item ${i}`,
  updated_at: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
})
const range = (from: number, n: number) =>
  Array.from({ length: Math.max(0, Math.min(n, TOTAL - from)) }, (_, k) => item(from + k))

/** A plain API with the pagination styles the named APIs do not use: offset, cursor and Link headers. */
export const genericRoutes: readonly Route[] = [
  {
    api: 'generic',
    pattern: /^\/generic\/offset$/,
    auth: 'none',
    handle(req) {
      const offset = intParam(req.params, 'offset', 0, 0, 1_000_000)
      const limit = intParam(req.params, 'limit', 50, 1, 200)
      if (typeof offset === 'string' || typeof limit === 'string')
        return { status: 400, body: { error: 'bad offset or limit' } }
      return ok({ items: range(offset, limit), total: TOTAL })
    },
  },
  {
    api: 'generic',
    pattern: /^\/generic\/cursor$/,
    auth: 'none',
    handle(req) {
      const from = Number(Buffer.from(req.params.get('cursor') ?? 'MA', 'base64url').toString()) || 0
      const next = from + 50 < TOTAL ? Buffer.from(String(from + 50)).toString('base64url') : null
      return ok({ items: range(from, 50), next_cursor: next })
    },
  },
  {
    api: 'generic',
    pattern: /^\/generic\/headers$/,
    auth: 'none',
    handle(req) {
      // Only x-* headers come back: a test can see custom headers, never credentials.
      const echoed = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.startsWith('x-')))
      return ok({ headers: echoed })
    },
  },
  {
    api: 'generic',
    pattern: /^\/generic\/linked$/,
    auth: 'none',
    handle(req) {
      const page = intParam(req.params, 'page', 1, 1, 1000)
      if (typeof page === 'string') return { status: 400, body: { error: page } }
      const last = Math.ceil(TOTAL / 50)
      const link =
        page < last
          ? `</generic/linked?page=${page + 1}>; rel="next", </generic/linked?page=${last}>; rel="last"`
          : ''
      return ok(range((page - 1) * 50, 50), link ? { link } : undefined)
    },
  },
]

export const GENERIC_TOTAL = TOTAL
