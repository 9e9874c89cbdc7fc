import { parseDuration } from '../../core/units.js'

/** Why a connection ended or could not be made, which decides how long to wait before the next. */
export type DropKind = 'network' | 'http' | 'rate'

export interface ReconnectOptions {
  readonly networkStep: string | number
  readonly networkMax: string | number
  readonly httpStart: string | number
  readonly httpMax: string | number
  readonly rateLimitStart: string | number
}

/** The longest a 429 backoff grows to: X's rate-limit windows are 15 minutes. */
const RATE_MAX_MS = 15 * 60_000

/**
 * X's documented reconnection policy for its streams: reconnect at once after a drop; then back off
 * linearly for network errors (250 ms more each attempt, up to 16 s), exponentially for HTTP errors
 * (5 s doubling, up to 320 s) and for 429s (1 minute doubling). A connection that delivers data
 * starts the count again. An SSE server's `retry:` sets the first wait after a network drop.
 */
export function reconnectPolicy(options: ReconnectOptions) {
  const [networkStepMs, networkMaxMs, httpStartMs, httpMaxMs, rateLimitStartMs] = [
    options.networkStep,
    options.networkMax,
    options.httpStart,
    options.httpMax,
    options.rateLimitStart,
  ].map(parseDuration) as [number, number, number, number, number]
  let tries = { network: 0, http: 0, rate: 0 }
  let retryMs = 0
  return {
    /** How long to wait before the next attempt; `atLeast` is what the server asked for (Retry-After). */
    next(kind: DropKind, atLeast = 0): number {
      const n = tries[kind]++
      const wait =
        kind === 'network'
          ? Math.min(networkMaxMs, retryMs + n * networkStepMs)
          : kind === 'http'
            ? Math.min(httpMaxMs, httpStartMs * 2 ** n)
            : Math.min(RATE_MAX_MS, rateLimitStartMs * 2 ** n)
      return Math.max(wait, atLeast)
    },
    reset() {
      tries = { network: 0, http: 0, rate: 0 }
    },
    retry(ms: number) {
      retryMs = ms
    },
  }
}
