import { WeirError } from '../../core/errors.js'
import type { ResolvedEndpoint } from './resolve.js'

export type Params = Record<string, string>

/** Parents before children; a cycle or a missing parent endpoint is a config error. */
export function orderEndpoints(source: string, eps: Readonly<Record<string, ResolvedEndpoint>>): string[] {
  const out: string[] = []
  const visiting = new Set<string>()
  const visit = (n: string) => {
    if (out.includes(n)) return
    if (visiting.has(n)) {
      throw new WeirError(
        `source ${source}: endpoints depend on each other in a cycle (${[...visiting, n].join(' → ')})`,
        {
          code: 'SOURCE_CONFIG',
          stage: 'config',
        },
      )
    }
    visiting.add(n)
    const parent = eps[n]!.parent?.endpoint
    if (parent) {
      if (!eps[parent]) {
        throw new WeirError(
          `source ${source}: endpoint ${n} has parent endpoint "${parent}", which does not exist`,
          {
            code: 'SOURCE_CONFIG',
            stage: 'config',
          },
        )
      }
      visit(parent)
    }
    visiting.delete(n)
    out.push(n)
  }
  for (const n of Object.keys(eps)) visit(n)
  return out
}

/** The fields children read from an endpoint's records, or undefined when nothing depends on it. */
export function childFields(eps: Readonly<Record<string, ResolvedEndpoint>>, name: string) {
  const children = Object.values(eps).filter((e) => e.parent?.endpoint === name)
  if (children.length === 0) return undefined
  const fields = new Set<string>()
  for (const c of children) {
    for (const f of Object.values(c.parent!.fields)) fields.add(f)
    for (const f of c.parent!.include) fields.add(f)
  }
  const resources = new Set(children.map((c) => c.parent!.resource))
  return { fields: [...fields], resource: resources.size === 1 ? [...resources][0] : undefined }
}

/** Puts `{name}` values into the path (URL-encoded) and leaves the other parameters for the query. */
export function fillPath(path: string, params: Params): { path: string; query: Params } {
  const query = { ...params }
  const filled = path.replace(/\{([A-Za-z0-9_.]+)\}/g, (_, k: string) => {
    const v = query[k]
    delete query[k]
    // A value with slashes fills several segments (GitHub's {repo} is "owner/name"); each is encoded.
    return (v ?? '').split('/').map(encodeURIComponent).join('/')
  })
  return { path: filled, query }
}

export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`
}

export function cursorParam(type: 'number' | 'string' | 'time', value: string, lagMs: number): string {
  if (type !== 'time') return value
  return new Date(Date.parse(value) - lagMs).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function stringify(o: Record<string, unknown>): Params {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]))
}
