import { WeirError } from '../../core/errors.js'
import { getPath } from '../../core/records.js'
import { parseDuration } from '../../core/units.js'
import type { PullContext, Source, SourceBatch, SourceDefinition } from '../source.js'
import { createAuth } from './auth.js'
import { loadBudget } from './budget.js'
import { createHttp } from './http.js'
import { mergeLimited } from './merge.js'
import { childFields, orderEndpoints } from './plan.js'
import { type ResolvedEndpoint, resolveRest } from './resolve.js'
import { type RestSourceConfig, restSourceSchema } from './rest-schema.js'
import { type PartitionState, type RestCursor, runUnit, type Unit, units } from './units.js'

export type { RestCursor } from './units.js'

/**
 * The declarative REST engine: endpoints with auth, pagination, record selectors, partitions
 * with a cursor each, dependent endpoints driven by parent records, a request budget and
 * retries. Each page becomes one batch whose cursor covers exactly the pages yielded so far.
 */
export function createRestSource(
  name: string,
  cfg: RestSourceConfig,
  others: (name: string) => Source,
): Source {
  const r = resolveRest(name, cfg)
  const order = orderEndpoints(name, r.endpoints)
  // The id an endpoint pages by (since_id) identifies its records; a time cursor does not.
  const ids = new Map<string, string>()
  for (const ep of Object.values(r.endpoints)) {
    const inc = ep.incremental
    const resource = inc?.resource ?? Object.keys(ep.select)[0]
    if (inc && inc.type !== 'time' && resource) ids.set(resource, inc.cursorPath)
  }
  return {
    name,
    identity: (resource) => {
      const path = ids.get(resource)
      return path ? [path] : undefined
    },
    async *pull(ctx: PullContext): AsyncGenerator<SourceBatch> {
      const saved = (ctx.cursor as RestCursor | undefined)?.partitions ?? {}
      const partitions: Record<string, PartitionState> = { ...saved }
      const budget = await loadBudget(name, ctx.state, r.budget)
      const auth = createAuth(name, cfg.auth, r.baseUrl, r.service?.apiKey)
      const http = createHttp({
        source: name,
        timeoutMs: parseDuration(cfg.timeout),
        attempts: cfg.retry.attempts,
        baseDelayMs: parseDuration(cfg.retry.baseDelay),
        maxDelayMs: parseDuration(cfg.retry.maxDelay),
        maxWaitMs: parseDuration(cfg.retry.maxWait),
        auth,
        budget,
        signal: ctx.signal,
        headers: cfg.headers,
      })
      // Parent endpoints keep only the fields their children need, so memory stays small.
      const kept = new Map<string, Record<string, unknown>[]>()
      let total = 0
      try {
        for (const epName of order) {
          const ep = r.endpoints[epName]!
          const needed = childFields(r.endpoints, epName)
          const pageOf = (unit: Unit) =>
            runUnit(unit, partitions[unit.key], { http, baseUrl: r.baseUrl, maxPages: cfg.maxPages })
          const series = units(epName, ep, (e) => parentRecords(name, e, ctx, kept, others))
          for await (const page of mergeLimited(series, cfg.concurrency, pageOf)) {
            if (page.update) partitions[page.update.key] = page.update.state
            if (needed) {
              for (const rec of page.records) {
                if (needed.resource && rec.resource !== needed.resource) continue
                const list = kept.get(epName) ?? []
                list.push(Object.fromEntries(needed.fields.map((f) => [f, getPath(rec.data, f)])))
                kept.set(epName, list)
              }
            }
            total += page.records.length
            yield { records: page.records, cursor: { partitions: { ...partitions } } satisfies RestCursor }
            if (cfg.maxRecords && total >= cfg.maxRecords) return
          }
        }
      } finally {
        await budget.save()
      }
    },
  }
}

export const restSource = {
  kind: 'rest',
  schema: restSourceSchema,
  create: (name, config, env) => createRestSource(name, config, env.others),
} satisfies SourceDefinition<RestSourceConfig>

/**
 * The records that drive a dependent endpoint: another endpoint's (kept from this pull), another
 * source's (pulled as a parent), or the rows of a query over the lake.
 */
async function* parentRecords(
  name: string,
  ep: ResolvedEndpoint,
  c: PullContext,
  kept: ReadonlyMap<string, readonly Record<string, unknown>[]>,
  others: (name: string) => Source,
): AsyncGenerator<unknown> {
  const p = ep.parent!
  if (p.endpoint) {
    yield* kept.get(p.endpoint) ?? []
    return
  }
  if (p.sql) {
    if (!c.query) {
      throw new WeirError(
        `source ${name}: a parent query needs the lake; run it with weir ingest or weir run`,
        {
          code: 'SOURCE_CONFIG',
          stage: 'source',
        },
      )
    }
    yield* await c.query(p.sql).catch((err: unknown) => {
      // A table the lake does not have yet (the first run, before anything was refined) drives no
      // requests; any other error in the query is the config's, and says so.
      if (isMissingTable(err)) return []
      throw err
    })
    return
  }
  const parent = others(p.source!)
  // The parent's own state (e.g. its budget) lives beside this source's, under its name.
  const state = {
    get: <T>(k: string) => c.state.get<T>(`parent-${p.source}/${k}`),
    put: (k: string, v: unknown) => c.state.put(`parent-${p.source}/${k}`, v),
  }
  for await (const batch of parent.pull({
    cursor: undefined,
    signal: c.signal,
    state,
    asParent: true,
  })) {
    for (const rec of batch.records) if (!p.resource || rec.resource === p.resource) yield rec.data
  }
}

function isMissingTable(err: unknown): boolean {
  return (
    err instanceof WeirError &&
    (err.code === 'LAKE_EMPTY' || /Catalog Error: Table with name \S+ does not exist/.test(err.message))
  )
}
