import { getPath, type SourceRecord } from '../../core/records.js'
import { parseDuration } from '../../core/units.js'
import type { PullContext, Source, SourceBatch, SourceDefinition } from '../source.js'
import { createAuth } from './auth.js'
import { loadBudget } from './budget.js'
import { createHttp } from './http.js'
import { mergeLimited } from './merge.js'
import { firstPage, nextPage, type PageState } from './paginate.js'
import {
  childFields,
  cursorParam,
  fillPath,
  isObject,
  joinUrl,
  orderEndpoints,
  type Params,
  stringify,
} from './plan.js'
import { type ResolvedEndpoint, resolveRest } from './resolve.js'
import { type RestSourceConfig, restSourceSchema } from './rest-schema.js'
import { cursorOf, maxCursor, selectRecords } from './select.js'

/** Progress of one partition of one endpoint: its cursor, and where an interrupted pagination resumes. */
interface PartitionState {
  readonly value?: string
  readonly resume?: { readonly next: PageState; readonly max?: string }
}

/** The cursor of a REST source, saved after each published batch. */
export interface RestCursor {
  readonly partitions: Readonly<Record<string, PartitionState>>
}

/** One request series: an endpoint with its parameters fixed (a partition, a parent record, a chunk). */
interface Unit {
  readonly endpoint: string
  readonly ep: ResolvedEndpoint
  readonly key: string
  readonly params: Params
  readonly include: Readonly<Record<string, unknown>>
}

interface Page {
  readonly records: SourceRecord[]
  readonly update?: { readonly key: string; readonly state: PartitionState }
}

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
          const pageOf = (unit: Unit) => runUnit(unit, partitions[unit.key])
          for await (const page of mergeLimited(units(epName, ep, ctx), cfg.concurrency, pageOf)) {
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

      async function* units(epName: string, ep: ResolvedEndpoint, c: PullContext): AsyncGenerator<Unit> {
        const base: Params = {}
        const lists: Record<string, unknown[]> = {}
        for (const [k, v] of Object.entries(ep.params)) {
          if (Array.isArray(v)) lists[k] = v
          else base[k] = String(v)
        }
        const unitOf = (params: Params, keyParts: unknown, include: Record<string, unknown> = {}): Unit => ({
          endpoint: epName,
          ep,
          key: `${epName}:${JSON.stringify(keyParts)}`,
          params,
          include,
        })
        // Parents repeat values (a CSV has a row per actor of the same movie): ask once per value.
        const asked = new Set<string>()
        if (ep.parent) {
          const fields = Object.entries(ep.parent.fields)
          const chunk = ep.chunk && fields.some(([p]) => p === ep.chunk!.param) ? ep.chunk : undefined
          let pending: unknown[] = []
          for await (const rec of parentRecords(ep, c)) {
            const values = Object.fromEntries(fields.map(([param, field]) => [param, getPath(rec, field)]))
            if (fields.some(([, f]) => getPath(rec, f) === undefined || getPath(rec, f) === null)) continue
            if (chunk) {
              const v = String(values[chunk.param])
              if (asked.has(v)) continue
              asked.add(v)
              pending.push(v)
              if (pending.length >= chunk.size) {
                yield unitOf({ ...base, [chunk.param]: pending.join(',') }, pending)
                pending = []
              }
              continue
            }
            const include = Object.fromEntries(
              ep.parent.include.map((f) => [`_parent_${f}`, getPath(rec, f)]),
            )
            const unit = unitOf({ ...base, ...stringify(values) }, values, include)
            if (asked.has(unit.key)) continue
            asked.add(unit.key)
            yield unit
          }
          if (chunk && pending.length) yield unitOf({ ...base, [chunk.param]: pending.join(',') }, pending)
          return
        }
        if (ep.chunk && lists[ep.chunk.param]) {
          const all = lists[ep.chunk.param]!
          for (let i = 0; i < all.length; i += ep.chunk.size) {
            const slice = all.slice(i, i + ep.chunk.size)
            yield unitOf({ ...base, [ep.chunk.param]: slice.join(',') }, slice)
          }
          return
        }
        const by = ep.partitionBy
        if (by && lists[by]) {
          for (const v of lists[by]) {
            yield unitOf({ ...base, ...(isObject(v) ? stringify(v) : { [by]: String(v) }) }, v)
          }
          return
        }
        if (by && base[by] !== undefined) {
          yield unitOf(base, base[by])
          return
        }
        yield unitOf(base, null)
      }

      async function* parentRecords(ep: ResolvedEndpoint, c: PullContext): AsyncGenerator<unknown> {
        const p = ep.parent!
        if (p.endpoint) {
          yield* kept.get(p.endpoint) ?? []
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

      async function* runUnit(unit: Unit, state: PartitionState | undefined): AsyncGenerator<Page> {
        const { ep } = unit
        const inc = ep.incremental
        const paginator = ep.paginator ?? { type: 'single' as const }
        const lagMs = inc?.lag === undefined ? 0 : parseDuration(inc.lag)
        let value = state?.value ?? inc?.initial
        let pendingMax = state?.resume?.max
        let page: PageState | undefined = state?.resume?.next ?? firstPage(paginator)
        const { path, query } = fillPath(ep.path, unit.params)
        const label = `${ep.method} ${ep.path}`
        for (let n = 0; ; n++) {
          if (cfg.maxPages && n >= cfg.maxPages) return
          let url: URL
          // A Link header may give a relative reference (RFC 8288): resolve it against the API.
          if (page && 'url' in page) url = new URL(page.url, r.baseUrl)
          else {
            url = new URL(joinUrl(r.baseUrl, path))
            for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v)
            if (inc && value !== undefined)
              url.searchParams.set(inc.param, cursorParam(inc.type, value, lagMs))
            if (inc?.endParam && inc.end) url.searchParams.set(inc.endParam, inc.end)
            for (const [k, v] of Object.entries(page?.params ?? {})) url.searchParams.set(k, v)
          }
          const res = await http.get(label, url, ep.headers)
          const records: SourceRecord[] = []
          const primary = inc?.resource ?? Object.keys(ep.select)[0]
          for (const [resource, sel] of Object.entries(ep.select)) {
            for (const data of selectRecords(res.body, sel)) {
              records.push({
                resource,
                data:
                  Object.keys(unit.include).length && isObject(data) ? { ...data, ...unit.include } : data,
              })
              if (inc && resource === primary)
                pendingMax = maxCursor(inc.type, pendingMax, cursorOf(data, inc.cursorPath, inc.type))
            }
          }
          const next = nextPage(paginator, res, page, records.length)
          let update: Page['update']
          if (inc) {
            // Newest-first APIs: the cursor may only move once every page of this run is in, or the
            // older pages not yet fetched would be skipped forever. Until then, remember where to resume.
            if (next === undefined) {
              value = maxCursor(inc.type, value, pendingMax)
              update = { key: unit.key, state: value === undefined ? {} : { value } }
            } else {
              const resume = { next, ...(pendingMax ? { max: pendingMax } : {}) }
              update = { key: unit.key, state: value === undefined ? { resume } : { value, resume } }
            }
          }
          yield { records, ...(update ? { update } : {}) }
          if (!next) return
          page = next
        }
      }
    },
  }
}

export const restSource = {
  kind: 'rest',
  schema: restSourceSchema,
  create: (name, config, env) => createRestSource(name, config, env.others),
} satisfies SourceDefinition<RestSourceConfig>
