import type { ServeConfig } from '../serve-schema.js'
import type { Condition, TableSpec } from '../stores/store.js'
import { ApiError } from './api-error.js'

const OPS = ['eq', 'in', 'gt', 'gte', 'lt', 'lte', 'prefix'] as const
const RESERVED = new Set(['select', 'sort', 'limit', 'cursor'])

/** A list request's parameters, checked: one filter on an index, a sort on it, a page size within the cap. */
export function listQuery(
  t: TableSpec,
  params: Record<string, string[]>,
  sort: string | undefined,
  limitText: string | undefined,
  config: Pick<ServeConfig, 'defaultLimit' | 'maxLimit'>,
): { index?: string; where?: Condition; desc: boolean; limit: number } {
  const filters = Object.keys(params).filter((p) => !RESERVED.has(p))
  if (filters.length > 1)
    throw new ApiError(400, 'bad_filter', `one filter at a time; got ${filters.join(', ')}`)
  let index: string | undefined
  let where: Condition | undefined
  for (const f of filters) {
    const type = t.indexes[f]
    if (!type) {
      throw new ApiError(
        400,
        'bad_filter',
        `parameter '${f}': not an indexed field of ${t.name} (indexed: ${Object.keys(t.indexes).join(', ') || 'none'})`,
      )
    }
    if (params[f]!.length > 1) throw new ApiError(400, 'bad_filter', `parameter '${f}': given more than once`)
    index = f
    where = condition(f, type, params[f]![0]!)
  }
  let desc = false
  if (sort) {
    const field = sort.replace(/^-/, '')
    desc = sort.startsWith('-')
    if (!t.indexes[field])
      throw new ApiError(400, 'bad_sort', `parameter 'sort': ${field} is not an indexed field of ${t.name}`)
    if (index && index !== field)
      throw new ApiError(400, 'bad_sort', `parameter 'sort': sort by the filtered field (${index})`)
    index = field
  }
  // Digits only: 1e9, 0x10 or 1.0 are not what a client meant to send.
  if (limitText !== undefined && !/^[1-9]\d{0,8}$/.test(limitText))
    throw new ApiError(400, 'bad_limit', `parameter 'limit': a whole number from 1 to ${config.maxLimit}`)
  const limit = limitText === undefined ? config.defaultLimit : Number(limitText)
  return {
    ...(index ? { index } : {}),
    ...(where ? { where } : {}),
    desc,
    limit: Math.min(limit, config.maxLimit),
  }
}

function condition(field: string, type: 'string' | 'number', raw: string): Condition {
  const m = /^([a-z]+):(.*)$/s.exec(raw)
  const op = (m && (OPS as readonly string[]).includes(m[1]!) ? m[1] : 'eq') as (typeof OPS)[number]
  const text = m && (OPS as readonly string[]).includes(m[1]!) ? m[2]! : raw
  const value = (v: string) => {
    if (type === 'string') return v
    const n = Number(v)
    if (v.trim() === '' || !Number.isFinite(n))
      throw new ApiError(400, 'bad_filter', `parameter '${field}': "${v}" is not a number`)
    return n
  }
  if (op === 'in') {
    const values = text.split(',').filter((v) => v !== '')
    if (!values.length || values.length > 100)
      throw new ApiError(400, 'bad_filter', `parameter '${field}': in: takes 1 to 100 comma-separated values`)
    return { op, values: values.map(value) }
  }
  if (op === 'prefix') {
    if (type !== 'string')
      throw new ApiError(400, 'bad_filter', `parameter '${field}': prefix: needs a text field`)
    return { op, value: text }
  }
  return { op, value: value(text) }
}

export function selectOf(select: string | undefined): string[] | undefined {
  if (!select) return undefined
  const fields = select.split(',').filter(Boolean)
  for (const f of fields)
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(f))
      throw new ApiError(400, 'bad_select', `parameter 'select': "${f}" is not a field name`)
  return fields
}

export function project(item: Readonly<Record<string, unknown>>, fields: string[] | undefined) {
  if (!fields) return item
  return Object.fromEntries(fields.filter((f) => Object.hasOwn(item, f)).map((f) => [f, item[f]]))
}
