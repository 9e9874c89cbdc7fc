/** The dashboard's calls to `weir serve` (/api/ui), with the API key when the server wants one. */
export interface QueryResult {
  columns: { name: string; type: string }[]
  rows: Record<string, unknown>[]
  truncated?: boolean
}

const KEY = 'weir.apiKey'

export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const key = localStorage.getItem(KEY)
  const res = await fetch(`./api/ui/${path}`, {
    ...init,
    headers: {
      ...(init.body ? { 'content-type': 'application/json' } : {}),
      ...(key ? { 'x-api-key': key } : {}),
    },
  })
  if (res.status === 401 || res.status === 403) {
    const k = prompt('This server needs an API key with the "ui" scope:')
    if (k) {
      localStorage.setItem(KEY, k)
      return api(path, init)
    }
  }
  const body = (await res.json()) as T & { error?: { message: string } }
  if (!res.ok) throw new Error(body.error?.message ?? `HTTP ${res.status}`)
  return body
}

export function query(sql: string): Promise<QueryResult> {
  return api<QueryResult>('query', { method: 'POST', body: JSON.stringify({ sql }) })
}
