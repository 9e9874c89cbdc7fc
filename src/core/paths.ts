import { WeirError } from './errors.js'
import { utcParts, zonedParts } from './time.js'

export interface PartitionFields {
  readonly source: string
  readonly resource: string
  readonly format: string
  /** The record's event time (or ingestion time when it has none). */
  readonly time: Date
  /** IANA zone of the time fields; UTC by default. */
  readonly timeZone?: string
}

const FIELD = /\{([a-z]+)\}/g
const TIME_FIELDS = new Set(['yyyy', 'mm', 'dd', 'hh'])

/**
 * The folder a record lands in: a pure function of the template and the record's fields.
 * Values are sanitised so no record can climb out of its folder (`..`, `/`, control characters).
 *
 * @example partitionPath('raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}', { source: 'x', resource: 'tweets', format: 'json', time })
 * // 'raw/x/json/tweets/2026/11/22'
 */
export function partitionPath(template: string, fields: PartitionFields): string {
  const values: Record<string, string> = {
    source: fields.source,
    resource: fields.resource,
    format: fields.format,
    ...zonedParts(fields.time, fields.timeZone),
  }
  return template.replace(FIELD, (_, name: string) => {
    const v = values[name]
    if (v === undefined) {
      throw new WeirError(
        `landing path "${template}": unknown field {${name}}; use ${Object.keys(values).join(', ')}`,
        {
          code: 'LANDING_TEMPLATE',
          stage: 'config',
        },
      )
    }
    return sanitise(v)
  })
}

/** The folders of the template before its first time field: where all of a table's files live. */
export function tableLocation(template: string, fields: Omit<PartitionFields, 'time'>): string {
  const cut = [...template.matchAll(FIELD)].find((m) => TIME_FIELDS.has(m[1]!))
  const head = cut ? template.slice(0, template.lastIndexOf('/', cut.index) + 1) : template
  const path = partitionPath(head, { ...fields, time: new Date(0) })
  return path.endsWith('/') ? path : `${path}/`
}

function sanitise(v: string): string {
  const clean = v.replace(/[/\\\u0000-\u001f]/g, '_').replace(/^\.+$/, '_')
  return clean.length ? clean : '_'
}

/**
 * Where set-aside input goes, the same shape for every stage:
 * `_errors/<stage>/<source>/<resource>/<yyyy>/<mm>/<dd>/<name>` (UTC day it was set aside; a line
 * whose resource is unknown, because it could not be read, goes under `_unknown`).
 */
export function errorsKey(
  stage: 'source' | 'landing' | 'refine',
  source: string,
  resource: string | undefined,
  time: Date,
  name: string,
): string {
  const { yyyy, mm, dd } = utcParts(time)
  return ['_errors', stage, source, resource || '_unknown', yyyy, mm, dd, name].filter(Boolean).join('/')
}

/**
 * The Hive partition a file's key sits in, `dt=2026-11-20` of
 * `trusted/x/tweets/dt=2026-11-20/part-000001-0.parquet`; '' when the file is not in one.
 */
export function hivePartition(key: string): string {
  return /\/([^/=]+=[^/]+)\/[^/]+$/.exec(key)?.[1] ?? ''
}
