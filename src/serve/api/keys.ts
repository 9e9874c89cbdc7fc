import { createHash, timingSafeEqual } from 'node:crypto'
import { parseDuration } from '../../core/units.js'
import type { ServeConfig } from '../serve-schema.js'
import { ApiError } from './api-error.js'

/**
 * The caller's key, when keys are configured: 401 without one, 403 out of scope, 429 over its
 * rate. Keys are compared by hash in constant time; returns the key's name for the access log.
 */
export function createAuthorizer(config: ServeConfig) {
  const keys = config.keys.map((k) => ({
    name: k.name,
    hash: Buffer.from(k.sha256 ?? sha256(k.key!), 'hex'),
    scopes: new Set(k.scopes),
    limit: k.rateLimit ? { count: k.rateLimit.count, per: parseDuration(k.rateLimit.per) } : undefined,
    recent: [] as number[],
  }))
  return (header: string | undefined, apiKey: string | undefined, table: string): string | null => {
    if (!keys.length) return null
    const given = apiKey ?? (header?.startsWith('Bearer ') ? header.slice(7) : undefined)
    if (!given)
      throw new ApiError(
        401,
        'unauthorized',
        'an API key is required: send it as X-API-Key or Authorization: Bearer',
      )
    const hash = Buffer.from(sha256(given), 'hex')
    const key = keys.find((k) => timingSafeEqual(k.hash, hash))
    if (!key) throw new ApiError(401, 'unauthorized', 'the API key is not valid')
    if (!key.scopes.has('*') && !key.scopes.has(table))
      throw new ApiError(403, 'forbidden', `this key may not read ${table}`)
    if (key.limit) {
      const now = Date.now()
      key.recent = key.recent.filter((t) => now - t < key.limit!.per)
      if (key.recent.length >= key.limit.count) {
        const wait = Math.ceil((key.limit.per - (now - key.recent[0]!)) / 1000)
        throw new ApiError(
          429,
          'rate_limited',
          `more than ${key.limit.count} requests in ${key.limit.per / 1000} s for this key`,
          wait,
        )
      }
      key.recent.push(now)
    }
    return key.name
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}
