import type { SourceRecord } from '../../core/records.js'
import { getPath } from '../../core/records.js'
import { parseDuration } from '../../core/units.js'
import type { createHttp } from './http.js'
import { firstPage, nextPage, type PageState } from './paginate.js'
import { cursorParam, fillPath, isObject, joinUrl, type Params, stringify } from './plan.js'
import type { ResolvedEndpoint } from './resolve.js'
import { cursorOf, maxCursor, selectRecords } from './select.js'

type Http = ReturnType<typeof createHttp>

/** Progress of one partition of one endpoint: its cursor, and where an interrupted pagination resumes. */
export interface PartitionState {
  readonly value?: string
  readonly resume?: { readonly next: PageState; readonly max?: string }
}

/** The cursor of a REST source, saved after each published batch. */
export interface RestCursor {
  readonly partitions: Readonly<Record<string, PartitionState>>
}

/** One request series: an endpoint with its parameters fixed (a partition, a parent record, a chunk). */
export interface Unit {
  readonly endpoint: string
  readonly ep: ResolvedEndpoint
  readonly key: string
  readonly params: Params
  readonly include: Readonly<Record<string, unknown>>
}

export interface Page {
  readonly records: SourceRecord[]
  readonly update?: { readonly key: string; readonly state: PartitionState }
}

/**
 * The request series of an endpoint: one per partition value, per parent record (asked once per
 * distinct value), or per chunk of values an API takes at once.
 */
export async function* units(
  epName: string,
  ep: ResolvedEndpoint,
  parentRecords: (ep: ResolvedEndpoint) => AsyncIterable<unknown>,
): AsyncGenerator<Unit> {
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
    for await (const rec of parentRecords(ep)) {
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
      const include = Object.fromEntries(ep.parent.include.map((f) => [`_parent_${f}`, getPath(rec, f)]))
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

/**
 * One request series, page by page: each page's records, and the partition's new state (the cursor
 * moves only once the last page is in; until then, where to resume).
 */
export async function* runUnit(
  unit: Unit,
  state: PartitionState | undefined,
  o: { readonly http: Http; readonly baseUrl: string; readonly maxPages: number | undefined },
): AsyncGenerator<Page> {
  const { ep } = unit
  const inc = ep.incremental
  const paginator = ep.paginator ?? { type: 'single' as const }
  const lagMs = inc?.lag === undefined ? 0 : parseDuration(inc.lag)
  let value = state?.value ?? inc?.initial
  let pendingMax = state?.resume?.max
  let page: PageState | undefined = state?.resume?.next ?? firstPage(paginator)
  // A series resumed where an interrupted run stopped ends at that run's newest record: what came
  // since is asked for by a fresh series from the new cursor, in this same run.
  let resumed = state?.resume !== undefined && inc !== undefined
  const { path, query } = fillPath(ep.path, unit.params)
  const label = `${ep.method} ${ep.path}`
  for (let n = 0; ; n++) {
    if (o.maxPages && n >= o.maxPages) return
    let url: URL
    // A Link header may give a relative reference (RFC 8288): resolve it against the API.
    if (page && 'url' in page) url = new URL(page.url, o.baseUrl)
    else {
      url = new URL(joinUrl(o.baseUrl, path))
      for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v)
      if (inc && value !== undefined) url.searchParams.set(inc.param, cursorParam(inc.type, value, lagMs))
      if (inc?.endParam && inc.end) url.searchParams.set(inc.endParam, inc.end)
      for (const [k, v] of Object.entries(page?.params ?? {})) url.searchParams.set(k, v)
    }
    const res = await o.http.get(label, url, ep.headers)
    const extra = ep.stamp ? { ...unit.include, [ep.stamp]: new Date().toISOString() } : unit.include
    const records: SourceRecord[] = []
    const primary = inc?.resource ?? Object.keys(ep.select)[0]
    for (const [resource, sel] of Object.entries(ep.select)) {
      for (const data of selectRecords(res.body, sel)) {
        records.push({
          resource,
          data: Object.keys(extra).length && isObject(data) ? { ...data, ...extra } : data,
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
    if (!next && resumed) {
      resumed = false
      pendingMax = undefined
      page = firstPage(paginator)
      continue
    }
    if (!next) return
    page = next
  }
}
