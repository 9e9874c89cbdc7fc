import { WeirError } from '../../core/errors.js'
import { createAuth } from '../rest/auth.js'
import { hint, masked, snippet } from '../rest/http.js'
import type { HttpStreamSourceConfig } from './http-stream-schema.js'
import type { DropKind } from './reconnect.js'
import type { ResolvedStream } from './stream-presets.js'

export type Opened =
  | { readonly body: ReadableStream<Uint8Array>; close(): void }
  | {
      readonly error: WeirError
      readonly kind: DropKind
      readonly headers?: Headers
    }

/** Opens the stream's connection with its credentials; says how a refusal should be waited out. */
export function connect(name: string, cfg: HttpStreamSourceConfig, r: ResolvedStream) {
  const auth = createAuth(name, cfg.auth, r.baseUrl, r.apiKey)
  const fail = (message: string, kind: DropKind, retryable: boolean, headers?: Headers): Opened => ({
    error: new WeirError(`source ${name}: ${message}`, { code: 'SOURCE_HTTP', stage: 'source', retryable }),
    kind,
    ...(headers ? { headers } : {}),
  })
  return {
    async headers(signal: AbortSignal): Promise<Headers> {
      const h = new Headers(cfg.headers)
      await auth.apply(new URL(r.url), h, signal)
      return h
    },
    async open(o: { signal: AbortSignal; lastEventId?: string; backfillMinutes: number }): Promise<Opened> {
      const url = new URL(r.url)
      if (o.backfillMinutes > 0 && r.backfillParam)
        url.searchParams.set(r.backfillParam, String(o.backfillMinutes))
      const headers = new Headers(cfg.headers)
      headers.set('accept', r.format === 'sse' ? 'text/event-stream' : 'application/json')
      if (o.lastEventId !== undefined) headers.set('last-event-id', o.lastEventId)
      const ac = new AbortController()
      try {
        await auth.apply(url, headers, o.signal)
        const res = await fetch(url, { headers, signal: AbortSignal.any([o.signal, ac.signal]) })
        if (res.ok && res.body) return { body: res.body, close: () => ac.abort() }
        const why = `the stream was refused: HTTP ${res.status}${snippet(await res.text().catch(() => ''))}`
        if (res.status === 429) return fail(why, 'rate', true, res.headers)
        if (res.status >= 500 || res.status === 408) return fail(why, 'http', true)
        return fail(
          `${why}${hint(res.status)}${res.status === 404 ? ` (sent: ${masked(url)})` : ''}`,
          'http',
          false,
        )
      } catch (err) {
        if (err instanceof WeirError) throw err
        const e = err as Error & { cause?: { code?: string } }
        const code = e.cause?.code
        return fail(
          `cannot connect to ${url.host}${code === 'ECONNREFUSED' ? ' (connection refused; check baseUrl and that the server is up)' : code ? ` (${code})` : `: ${e.message}`}`,
          'network',
          true,
        )
      }
    },
  }
}
