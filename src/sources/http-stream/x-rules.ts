import { WeirError } from '../../core/errors.js'
import { snippet } from '../rest/http.js'

interface Rule {
  readonly value: string
  readonly tag?: string | undefined
}

interface RulesAnswer {
  readonly data?: readonly (Rule & { readonly id: string })[]
  readonly errors?: readonly {
    readonly value?: string
    readonly title?: string
    readonly details?: readonly string[]
  }[]
}

/**
 * Makes X's filtered-stream rules what the config lists: rules not listed are deleted, rules
 * missing are added (X matches a rule by its value; a changed tag is a delete and an add). An
 * invalid rule fails with X's reason, naming the rule; it is the config's to fix.
 */
export async function syncRules(
  source: string,
  url: URL,
  wanted: readonly Rule[],
  headers: () => Promise<Headers>,
  signal: AbortSignal,
): Promise<{ added: number; deleted: number }> {
  const call = async (method: 'GET' | 'POST', body?: unknown): Promise<RulesAnswer> => {
    const h = await headers()
    if (body) h.set('content-type', 'application/json')
    const res = await fetch(url, {
      method,
      headers: h,
      signal,
      ...(body ? { body: JSON.stringify(body) } : {}),
    }).catch((err: unknown) => {
      const code = (err as { cause?: { code?: string } }).cause?.code
      throw new WeirError(
        `source ${source}: cannot reach ${url.host} to ${method === 'GET' ? 'read' : 'set'} the stream's rules${code ? ` (${code})` : ''}; check baseUrl and the network`,
        { code: 'SOURCE_CONNECT', stage: 'source', retryable: true, cause: err },
      )
    })
    const text = await res.text()
    const json = (() => {
      try {
        return JSON.parse(text) as RulesAnswer
      } catch {
        return {}
      }
    })()
    if (!res.ok && !json.errors?.length)
      throw new WeirError(
        `source ${source}: the stream's rules could not be ${method === 'GET' ? 'read' : 'changed'}: HTTP ${res.status}${snippet(text)}`,
        {
          code: 'SOURCE_HTTP',
          stage: 'source',
          retryable: res.status === 429 || res.status >= 500,
        },
      )
    return json
  }
  const same = (a: Rule, b: Rule) => a.value === b.value && (a.tag ?? '') === (b.tag ?? '')
  const current = (await call('GET')).data ?? []
  const stale = current.filter((r) => !wanted.some((w) => same(w, r)))
  const missing = wanted.filter((w) => !current.some((r) => same(w, r)))
  if (stale.length) await call('POST', { delete: { ids: stale.map((r) => r.id) } })
  if (missing.length) {
    const answer = await call('POST', {
      add: missing.map((r) => ({ value: r.value, ...(r.tag ? { tag: r.tag } : {}) })),
    })
    if (answer.errors?.length) {
      const e = answer.errors[0]!
      throw new WeirError(
        `source ${source}: X refused the rule "${e.value ?? '?'}": ${e.title ?? 'invalid'}${e.details?.length ? ` (${e.details.join('; ')})` : ''}; fix it in rules`,
        { code: 'SOURCE_CONFIG', stage: 'source' },
      )
    }
  }
  return { added: missing.length, deleted: stale.length }
}
