import {
  intParam,
  ok,
  type Route,
  type SimRequest,
  type SimResponse,
  token,
  untoken,
  xError,
} from './routes.js'
import type { World } from './world.js'

const DAY = 86_400_000

/**
 * Terms a tweet must contain: words and #tags of the query, ignoring operators (`-is:retweet`,
 * `lang:en`); `a OR b` matches either side, as X's rules and queries do.
 */
export function matcher(query: string): (text: string) => boolean {
  const alternatives = query.split(/\s+OR\s+/).map((part) =>
    part
      .split(/\s+/)
      .filter((t) => t && !t.startsWith('-') && !t.includes(':') && t !== 'AND')
      .map((t) => t.toLowerCase().replace(/^[("]+|[)"]+$/g, '')),
  )
  return (text) => {
    const lower = text.toLowerCase()
    return alternatives.some((terms) => terms.every((t) => lower.includes(t)))
  }
}

/** Serves a newest-first list of tweet indices page by page, like X's timelines and search. */
function page(
  req: SimRequest,
  world: World,
  indices: (anchor: number) => number[],
  tokenParam: string,
): SimResponse {
  const max = intParam(req.params, 'max_results', 10, tokenParam === 'next_token' ? 10 : 5, 100)
  if (typeof max === 'string') return xError(400, 'Invalid Request', max)
  const given = req.params.get(tokenParam)
  const t = untoken(given)
  if (given && !t)
    return xError(
      400,
      'Invalid Request',
      `The \`${tokenParam}\` query parameter value [${given}] is not valid`,
    )
  // The anchor pins the newest tweet of page one, so tweets arriving mid-pagination do not shift later pages.
  const anchor = t?.anchor ?? world.tweetCount(req.now) - 1
  const all = indices(anchor)
  const offset = t?.offset ?? 0
  const slice = all.slice(offset, offset + max)
  const next = offset + max < all.length ? token(offset + max, anchor) : undefined
  if (slice.length === 0) return ok({ meta: { result_count: 0 } })
  const tweets = slice.map((i) => world.tweet(i, req.now))
  const body: Record<string, unknown> = {
    data: tweets,
    meta: {
      newest_id: tweets[0]!.id,
      oldest_id: tweets.at(-1)!.id,
      result_count: tweets.length,
      ...(next ? { next_token: next } : {}),
    },
  }
  if (req.params.get('expansions')?.split(',').includes('author_id')) {
    const authors = [...new Set(slice.map((i) => world.tweetAuthor(i)))]
    body.includes = { users: authors.map((u) => world.user(u)) }
  }
  return ok(body)
}

// The pages of one search share its answer: computing it once per query and anchor keeps paging
// through a large history linear instead of quadratic.
const answers = new WeakMap<World, Map<string, number[]>>()

/** Tweet indices at or before `anchor`, newest first, newer than `since_id`, within the window. */
function select(
  world: World,
  req: SimRequest,
  anchor: number,
  keep: (i: number) => boolean,
  windowDays: number,
) {
  const p = req.params
  const key = [
    req.path,
    p.get('query'),
    p.get('since_id'),
    p.get('end_time'),
    p.get('start_time'),
    anchor,
    Math.floor(req.now / 60_000),
  ].join('|')
  const cache = answers.get(world) ?? new Map<string, number[]>()
  answers.set(world, cache)
  let out = cache.get(key)
  if (!out) {
    if (cache.size > 200) cache.clear()
    out = scan(world, req, anchor, keep, windowDays)
    cache.set(key, out)
  }
  return out
}

function scan(
  world: World,
  req: SimRequest,
  anchor: number,
  keep: (i: number) => boolean,
  windowDays: number,
) {
  const since = req.params.get('since_id')
  const sinceIndex = since ? world.tweetIndex(since) : undefined
  const startTime = req.params.get('start_time')
  const floor = Math.max(
    req.now - windowDays * DAY,
    startTime ? Date.parse(startTime) : Number.NEGATIVE_INFINITY,
  )
  const endTime = req.params.get('end_time')
  const ceiling = endTime ? Date.parse(endTime) : Number.POSITIVE_INFINITY
  const out: number[] = []
  for (let i = anchor; i >= 0; i--) {
    if (sinceIndex !== undefined && i <= sinceIndex) break
    if (world.tweetTime(i) < floor) break
    if (world.tweetTime(i) < ceiling && keep(i)) out.push(i)
  }
  return out
}

export const xRoutes: readonly Route[] = [
  {
    api: 'x',
    pattern: /^\/2\/tweets\/search\/recent$/,
    auth: 'x',
    handle(req, world) {
      const query = req.params.get('query')
      if (!query) return xError(400, 'Invalid Request', 'The `query` query parameter can not be empty')
      const match = matcher(query)
      return page(
        req,
        world,
        (anchor) => select(world, req, anchor, (i) => match(world.tweet(i, req.now).text), 7),
        'next_token',
      )
    },
  },
  {
    api: 'x',
    pattern: /^\/2\/users\/by$/,
    auth: 'x',
    handle(req, world) {
      const names = (req.params.get('usernames') ?? '').split(',').filter(Boolean)
      if (names.length === 0 || names.length > 100) {
        return xError(
          400,
          'Invalid Request',
          'The `usernames` query parameter value must have 1 to 100 names',
        )
      }
      const data = []
      const errors = []
      for (const n of names) {
        const i = world.userIndexByName(n)
        if (i === undefined) {
          errors.push({
            value: n,
            detail: `Could not find user with usernames: [${n}].`,
            title: 'Not Found Error',
            resource_type: 'user',
            parameter: 'usernames',
            resource_id: n,
            type: 'https://api.twitter.com/2/problems/resource-not-found',
          })
        } else data.push(world.user(i))
      }
      return ok({ ...(data.length ? { data } : {}), ...(errors.length ? { errors } : {}) })
    },
  },
  {
    api: 'x',
    pattern: /^\/2\/users\/(\d+)\/tweets$/,
    auth: 'x',
    handle(req, world) {
      const user = world.userIndexById(req.match[1]!)
      if (user === undefined)
        return xError(404, 'Not Found Error', `Could not find user with id: [${req.match[1]}].`)
      return page(
        req,
        world,
        (anchor) => select(world, req, anchor, (i) => world.tweetAuthor(i) === user, 3650),
        'pagination_token',
      )
    },
  },
  {
    api: 'x',
    pattern: /^\/2\/tweets$/,
    auth: 'x',
    handle(req, world) {
      const ids = (req.params.get('ids') ?? '').split(',').filter(Boolean)
      if (ids.length === 0 || ids.length > 100) {
        return xError(400, 'Invalid Request', 'The `ids` query parameter value must have 1 to 100 ids')
      }
      const count = world.tweetCount(req.now)
      const data = []
      const errors = []
      for (const id of ids) {
        const i = world.tweetIndex(id)
        if (i === undefined || i >= count) {
          errors.push({
            value: id,
            detail: `Could not find tweet with ids: [${id}].`,
            title: 'Not Found Error',
            resource_type: 'tweet',
            parameter: 'ids',
            resource_id: id,
            type: 'https://api.twitter.com/2/problems/resource-not-found',
          })
        } else data.push(world.tweet(i, req.now))
      }
      return ok({ ...(data.length ? { data } : {}), ...(errors.length ? { errors } : {}) })
    },
  },
]
