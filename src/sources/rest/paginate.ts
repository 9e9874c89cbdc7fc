import { getPath } from '../../core/records.js'
import type { HttpResponse } from './http.js'
import type { Paginator } from './rest-schema.js'

/** What the next request needs: parameters to add, or (Link header) the whole next URL. */
export type PageState = { readonly params: Readonly<Record<string, string>> } | { readonly url: string }

/** The state of the first request, for paginators that send something on page one too. */
export function firstPage(p: Paginator): PageState | undefined {
  if (p.type === 'page_number') return { params: { [p.param]: String(p.start) } }
  if (p.type === 'offset') return { params: { [p.offsetParam]: '0', [p.limitParam]: String(p.limit) } }
  return undefined
}

/** The state of the next request after `res`, or undefined when this was the last page. */
export function nextPage(
  p: Paginator,
  res: HttpResponse,
  sent: PageState | undefined,
  count: number,
): PageState | undefined {
  switch (p.type) {
    case 'single':
      return undefined
    case 'next_token':
    case 'cursor': {
      const token = getPath(res.body, p.path)
      return token === undefined || token === null || token === ''
        ? undefined
        : { params: { [p.param]: String(token) } }
    }
    case 'page_number': {
      const page = Number(sent && 'params' in sent ? sent.params[p.param] : p.start)
      if (p.totalPath) {
        const total = Number(getPath(res.body, p.totalPath))
        return Number.isFinite(total) && page < total
          ? { params: { [p.param]: String(page + 1) } }
          : undefined
      }
      return count > 0 ? { params: { [p.param]: String(page + 1) } } : undefined
    }
    case 'offset': {
      const offset = Number(sent && 'params' in sent ? sent.params[p.offsetParam] : 0) + p.limit
      const total = p.totalPath ? Number(getPath(res.body, p.totalPath)) : undefined
      const more = total !== undefined && Number.isFinite(total) ? offset < total : count >= p.limit
      return more
        ? { params: { [p.offsetParam]: String(offset), [p.limitParam]: String(p.limit) } }
        : undefined
    }
    case 'link': {
      const next = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(res.headers.get('link') ?? '')?.[1]
      return next ? { url: next } : undefined
    }
  }
}
