import { WeirError } from '../../core/errors.js'
import { PRESETS, SERVICES } from './presets.js'
import type { EndpointConfig, RestSourceConfig } from './rest-schema.js'

/** An endpoint with its preset merged in, a path and record selectors. */
export interface ResolvedEndpoint extends EndpointConfig {
  readonly path: string
  readonly select: Readonly<Record<string, string>>
}

/** Expands presets into plain endpoints with every field set. */
export function resolveRest(name: string, cfg: RestSourceConfig) {
  const presetOf = (id: string) => {
    const p = PRESETS[id]
    if (!p) {
      throw new WeirError(
        `source ${name}: unknown preset "${id}"; presets: ${Object.keys(PRESETS).join(', ')}`,
        {
          code: 'SOURCE_PRESET',
          stage: 'config',
        },
      )
    }
    return p
  }
  const endpoints: Record<string, EndpointConfig> = {}
  let service = cfg.preset ? presetOf(cfg.preset).service : undefined
  if (cfg.preset) {
    const p = presetOf(cfg.preset)
    endpoints[cfg.preset.split('.')[1]!] = {
      method: 'GET',
      headers: {},
      ...p.endpoint,
      params: { ...p.endpoint.params, ...cfg.params },
      ...(cfg.partitionBy ? { partitionBy: cfg.partitionBy } : {}),
      ...(cfg.parent ? { parent: cfg.parent } : {}),
    }
  }
  for (const [epName, ep] of Object.entries(cfg.endpoints)) {
    if (!ep.preset) {
      endpoints[epName] = { ...ep, params: { ...(cfg.preset ? {} : cfg.params), ...ep.params } }
      continue
    }
    const p = presetOf(ep.preset)
    service ??= p.service
    endpoints[epName] = {
      method: 'GET',
      headers: {},
      ...p.endpoint,
      ...stripUndefined(ep),
      params: { ...p.endpoint.params, ...ep.params },
    } as EndpointConfig
  }
  const resolved: Record<string, ResolvedEndpoint> = {}
  for (const [epName, ep] of Object.entries(endpoints)) {
    if (!ep.path) {
      throw new WeirError(`source ${name}: endpoint ${epName} has no path; give path or preset`, {
        code: 'SOURCE_CONFIG',
        stage: 'config',
      })
    }
    resolved[epName] = { ...ep, path: ep.path, select: ep.select ?? { [epName]: '$' } }
  }
  if (Object.keys(resolved).length === 0) {
    throw new WeirError(`source ${name}: no endpoints; give a preset or endpoints`, {
      code: 'SOURCE_CONFIG',
      stage: 'config',
    })
  }
  const svc = service ? SERVICES[service] : undefined
  // An empty baseUrl (`${X_API_URL:-}` unset) is the API's own.
  const baseUrl = cfg.baseUrl || svc?.baseUrl
  if (!baseUrl) {
    throw new WeirError(`source ${name}: no baseUrl`, { code: 'SOURCE_CONFIG', stage: 'config' })
  }
  return { endpoints: resolved, baseUrl, service: svc, budget: cfg.budget ?? svc?.budget }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
