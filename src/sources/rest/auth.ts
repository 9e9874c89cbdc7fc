import { WeirError } from '../../core/errors.js'
import { registerSecret } from '../../core/redact.js'
import type { AuthConfig } from './rest-schema.js'

/** Applies credentials to a request; their values are registered as secrets, so no message shows them. */
export interface Auth {
  apply(url: URL, headers: Headers, signal: AbortSignal): Promise<void>
  /** Forget a cached OAuth2 token after a 401, so the next attempt fetches a new one. */
  invalidate(): void
}

/**
 * Builds the auth of a REST source. `defaultKeyName` is where the API expects an API key when the
 * config does not say (Tomorrow.io `apikey`, TMDB `api_key`).
 */
export function createAuth(
  source: string,
  auth: AuthConfig | undefined,
  baseUrl: string,
  defaultKey: { readonly name: string; readonly in: 'query' | 'header' } = { name: 'api_key', in: 'query' },
): Auth {
  if (!auth) return { apply: async () => {}, invalidate: () => {} }
  if ('bearer' in auth) {
    // Every credential is registered, so no error message, from here or a library, can carry it.
    registerSecret(auth.bearer)
    return {
      apply: async (_u, h) => h.set('authorization', `Bearer ${auth.bearer}`),
      invalidate: () => {},
    }
  }
  if ('apiKey' in auth) {
    const name = auth.name ?? defaultKey.name
    const where = auth.in ?? defaultKey.in
    registerSecret(auth.apiKey)
    return {
      apply: async (u, h) => {
        if (where === 'query') u.searchParams.set(name, auth.apiKey)
        else h.set(name, auth.apiKey)
      },
      invalidate: () => {},
    }
  }
  if ('basic' in auth) {
    const encoded = Buffer.from(`${auth.basic.username}:${auth.basic.password}`).toString('base64')
    registerSecret(auth.basic.password)
    registerSecret(encoded)
    return {
      apply: async (_u, h) => h.set('authorization', `Basic ${encoded}`),
      invalidate: () => {},
    }
  }
  const o = auth.oauth2
  const basic = Buffer.from(
    `${encodeURIComponent(o.clientId)}:${encodeURIComponent(o.clientSecret)}`,
  ).toString('base64')
  let token: { value: string; expires: number } | undefined
  registerSecret(o.clientSecret)
  registerSecret(basic)
  return {
    async apply(_u, h, signal) {
      if (!token || Date.now() > token.expires) {
        const body = new URLSearchParams({
          grant_type: 'client_credentials',
          ...(o.scope ? { scope: o.scope } : {}),
        })
        const res = await fetch(new URL(o.tokenUrl, baseUrl), {
          method: 'POST',
          headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
          body,
          signal,
        }).catch((err: unknown) => {
          throw new WeirError(`source ${source}: OAuth2 token request failed: ${(err as Error).message}`, {
            code: 'SOURCE_AUTH',
            stage: 'source',
            retryable: true,
          })
        })
        const json = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number }
        if (!res.ok || !json.access_token) {
          throw new WeirError(
            `source ${source}: OAuth2 token request was refused (HTTP ${res.status}); check clientId/clientSecret`,
            {
              code: 'SOURCE_AUTH',
              stage: 'source',
            },
          )
        }
        // Renew a minute early so a token never expires mid-request.
        token = {
          value: json.access_token,
          expires: Date.now() + Math.max(0, (json.expires_in ?? 3600) - 60) * 1000,
        }
        registerSecret(json.access_token)
      }
      h.set('authorization', `Bearer ${token.value}`)
    },
    invalidate: () => {
      token = undefined
    },
  }
}
