import type { IncomingMessage, ServerResponse } from 'node:http'
import { sleep } from '../../core/time.js'
import { type Fault, faultResponse, takeFault } from './faults.js'
import type { SimResponse } from './routes.js'
import { body } from './sim-auth.js'
import { hash, TAGS, WORDS, type World } from './world.js'
import { matcher } from './x-api.js'

/** How the simulated streams flow: items per second, how many in all, how often a keep-alive. */
export interface StreamFeedOptions {
  /** Items per second on each feed (default 5). */
  readonly rate?: number
  /** Stop after this many items (default: never); the connection stays open with keep-alives. */
  readonly total?: number
  /** A keep-alive after this long without data (default 20 s, as X does). */
  readonly keepAliveMs?: number
}

interface Rule {
  readonly id: string
  readonly value: string
  readonly tag?: string
}

type Log = (status: number) => void

const STREAM_ID_BASE = 1_800_000_000_000_000_000n

/**
 * The long-lived endpoints: X's filtered stream (`/2/tweets/search/stream`, newline-delimited JSON
 * with blank keep-alive lines, `backfill_minutes`, rules at `/2/tweets/search/stream/rules`) and a
 * Server-Sent Events feed (`/sse/readings`, resumed by `Last-Event-ID`). Each feed's item k is due
 * at its clock's start (the first connection) plus k / rate seconds, the same for every connection,
 * so what a client misses while disconnected is really missed, unless it asks for it back.
 * `disconnect()` drops every open connection, as X's operational disconnects do.
 */
export function createStreamApi(world: World, seed: number, o: StreamFeedOptions = {}) {
  const rate = o.rate ?? 5
  const keepAliveMs = o.keepAliveMs ?? 20_000
  const rules: Rule[] = []
  const open = new Set<ServerResponse>()
  let ruleSeq = 0
  const clocks = new Map<string, number>()
  const clock = (feed: string) => {
    if (!clocks.has(feed)) clocks.set(feed, Date.now())
    return clocks.get(feed)!
  }
  const dueAt = (feed: string, k: number) => clock(feed) + (k * 1000) / rate

  const tweet = (k: number) => {
    const h = hash(k + 7_000_000, seed)
    const tag = TAGS[(h >>> 8) % TAGS.length]!
    const words = Array.from({ length: 4 + (h % 6) }, (_, i) => WORDS[(h >>> i) % WORDS.length]).join(' ')
    const id = (STREAM_ID_BASE + BigInt(k)).toString()
    const author = h % world.options.users
    return {
      data: {
        id,
        text: `${words} #${tag}`,
        author_id: world.user(author).id,
        created_at: new Date(dueAt('x', k)).toISOString(),
        edit_history_tweet_ids: [id],
        lang: h % 5 === 0 ? 'pt' : 'en',
      },
      includes: { users: [world.user(author)] },
    }
  }
  const reading = (k: number) => {
    const h = hash(k + 9_000_000, seed)
    return {
      seq: k,
      sensor: `s${h % 10}`,
      value: (h % 10_000) / 100,
      time: new Date(dueAt('sse', k)).toISOString(),
    }
  }

  /** Writes items from `from` on as they fall due, and keep-alives between, until the client leaves. */
  async function flow(
    feed: string,
    res: ServerResponse,
    from: number,
    render: (k: number) => string | undefined,
    keepAlive: string,
  ) {
    open.add(res)
    let k = from
    let lastWrite = Date.now()
    try {
      while (!res.destroyed && !res.writableEnded) {
        let chunk = ''
        const now = Date.now()
        for (; (o.total === undefined || k < o.total) && dueAt(feed, k) <= now && chunk.length < 65_536; k++)
          chunk += render(k) ?? ''
        if (!chunk && now - lastWrite >= keepAliveMs) chunk = keepAlive
        if (chunk) {
          lastWrite = now
          if (!res.write(chunk))
            await new Promise<void>((r) => {
              const done = () => {
                res.off('drain', done).off('close', done)
                r()
              }
              res.on('drain', done).on('close', done)
            })
          continue
        }
        const next = o.total !== undefined && k >= o.total ? Number.POSITIVE_INFINITY : dueAt(feed, k)
        await sleep(Math.max(1, Math.min(next - Date.now(), lastWrite + keepAliveMs - Date.now(), 50)))
      }
    } finally {
      open.delete(res)
    }
  }

  async function filteredStream(res: ServerResponse, url: URL, log: Log) {
    const back = Number(url.searchParams.get('backfill_minutes') ?? 0)
    if (!Number.isInteger(back) || back < 0 || back > 5) {
      log(400)
      res.writeHead(400, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ title: 'Invalid Request', detail: 'backfill_minutes must be 0 to 5' }))
      return
    }
    log(200)
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
    const since = Date.now() - back * 60_000
    const from = Math.max(0, Math.ceil(((since - clock('x')) * rate) / 1000))
    const expand = url.searchParams.get('expansions')?.split(',').includes('author_id')
    await flow(
      'x',
      res,
      from,
      (k) => {
        const t = tweet(k)
        const matching = rules.filter((r) => matcher(r.value)(t.data.text))
        if (!matching.length) return undefined
        const line = {
          data: t.data,
          ...(expand ? { includes: t.includes } : {}),
          matching_rules: matching.map((r) => ({ id: r.id, ...(r.tag ? { tag: r.tag } : {}) })),
        }
        return `${JSON.stringify(line)}\r\n`
      },
      '\r\n',
    )
  }

  async function streamRules(req: IncomingMessage, res: ServerResponse, url: URL, log: Log) {
    const send = (status: number, b: unknown) => {
      log(status)
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
      res.end(JSON.stringify(b))
    }
    const sent = new Date().toISOString()
    if (req.method === 'GET')
      return send(200, {
        ...(rules.length ? { data: rules } : {}),
        meta: { sent, result_count: rules.length },
      })
    let change: { add?: { value: string; tag?: string }[]; delete?: { ids?: string[] } }
    try {
      change = JSON.parse(await body(req))
    } catch {
      return send(400, { title: 'Invalid Request', detail: 'the body is not JSON' })
    }
    if (change.add) {
      const invalid = change.add.filter((r) => !r.value?.trim() || r.value.length > 512)
      if (invalid.length)
        return send(400, {
          errors: invalid.map((r) => ({
            value: r.value,
            title: 'Invalid Rule',
            details: ['empty or too long'],
          })),
          meta: {
            sent,
            summary: { created: 0, not_created: invalid.length, valid: 0, invalid: invalid.length },
          },
        })
      const created: Rule[] = []
      for (const r of change.add) {
        if (rules.some((x) => x.value === r.value)) continue
        const rule = {
          id: String(1_600_000_000_000_000_000n + BigInt(++ruleSeq)),
          value: r.value,
          ...(r.tag ? { tag: r.tag } : {}),
        }
        if (url.searchParams.get('dry_run') !== 'true') rules.push(rule)
        created.push(rule)
      }
      return send(201, {
        ...(created.length ? { data: created } : {}),
        meta: {
          sent,
          summary: {
            created: created.length,
            not_created: change.add.length - created.length,
            valid: change.add.length,
            invalid: 0,
          },
        },
      })
    }
    const ids = change.delete?.ids ?? []
    let deleted = 0
    for (const id of ids) {
      const i = rules.findIndex((r) => r.id === id)
      if (i >= 0) {
        rules.splice(i, 1)
        deleted++
      }
    }
    return send(200, { meta: { sent, summary: { deleted, not_deleted: ids.length - deleted } } })
  }

  async function sse(req: IncomingMessage, res: ServerResponse, log: Log) {
    log(200)
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    const last = Number(req.headers['last-event-id'])
    const from = Number.isInteger(last)
      ? last + 1
      : Math.max(0, Math.ceil(((Date.now() - clock('sse')) * rate) / 1000))
    res.write('retry: 250\n\n')
    await flow(
      'sse',
      res,
      from,
      (k) => `id: ${k}\nevent: reading\ndata: ${JSON.stringify(reading(k))}\n\n`,
      ': keep-alive\n\n',
    )
  }

  return {
    paths: ['/2/tweets/search/stream', '/2/tweets/search/stream/rules', '/sse/readings'],
    rules: rules as readonly Rule[],
    /**
     * Serves one of `paths`: X's need a bearer token; an injected fault (a 429, a 503) refuses the
     * stream before it starts, as a reconnect may meet.
     */
    async serve(
      req: IncomingMessage,
      res: ServerResponse,
      url: URL,
      log: Log,
      faults: { fault: Fault; left: number }[],
    ): Promise<void> {
      const refuse = (r: SimResponse) => {
        log(r.status)
        res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers })
        res.end(JSON.stringify(r.body))
      }
      const x = url.pathname.startsWith('/2/')
      if (x && !/^Bearer \S+/.test(req.headers.authorization ?? ''))
        return refuse({
          status: 401,
          body: { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' },
        })
      const f = takeFault(faults, url.pathname, Object.fromEntries(url.searchParams))
      if (f?.status) return refuse(faultResponse(f, f.status, req.url ?? ''))
      if (url.pathname === '/2/tweets/search/stream') return filteredStream(res, url, log)
      if (x) return streamRules(req, res, url, log)
      return sse(req, res, log)
    },
    /**
     * Drops every open stream. `abrupt` cuts the connection; otherwise X's operational-disconnect
     * message is sent first, as X does before a planned disconnect.
     */
    disconnect(abrupt = false) {
      const n = open.size
      for (const res of open) {
        if (!abrupt && res.getHeader('content-type')?.toString().startsWith('application/json'))
          res.write(
            `${JSON.stringify({ errors: [{ title: 'operational-disconnect', disconnect_type: 'UpstreamOperationalDisconnect', detail: 'This stream has been disconnected upstream for operational reasons.', type: 'https://api.twitter.com/2/problems/operational-disconnect' }] })}\r\n`,
          )
        res.destroy()
      }
      return n
    },
    /** Open stream connections now. */
    get connections() {
      return open.size
    },
  }
}

export type StreamApi = ReturnType<typeof createStreamApi>
