import { partitionPath } from '../core/paths.js'
import { fingerprinter, getPath } from '../core/records.js'
import { parseEventTime } from '../core/time.js'
import type { Delivery } from '../stream/stream.js'
import type { LandingOptions, LandingTable } from './landing-types.js'

/** Zone offsets are multiples of 15 minutes, so one folder rendering serves a whole quarter hour. */
const QUARTER = 900_000

export type Routed =
  | {
      readonly resource: string
      readonly key: string
      readonly fp: string
      readonly dir: string
      readonly table: LandingTable
      readonly eventMs: number | undefined
      readonly late: boolean
    }
  | { readonly reason: string }

/** Decides, per record, its file key and folder, or why it must be set aside. */
export function router(opts: LandingOptions, maxRecordBytes: number): (d: Delivery) => Routed {
  const tables = new Map<string, LandingTable>()
  const dirs = new Map<string, string>()
  const newest = new Map<string, { ms: number; dir: string }>()
  const fingerprint = fingerprinter()
  return (d) => {
    const resource = d.headers.resource
    if (!resource) return { reason: 'no resource header' }
    if (d.value.length > maxRecordBytes) {
      return {
        reason: `record is ${d.value.length} bytes, over the ${maxRecordBytes} allowed (landing.maxRecordBytes)`,
      }
    }
    const tk = `${d.topic}\u0000${resource}`
    let table = tables.get(tk)
    if (!table) {
      table = opts.table(d.topic, resource)
      tables.set(tk, table)
    }
    let fp = d.headers.fp ?? ''
    let eventMs: number | undefined
    if (d.headers.run) {
      // Published by Weir's ingest: the envelope already holds the event time and the structure's
      // fingerprint, and the value is JSON.stringify output, so there is nothing to parse again.
      if (d.headers.et) eventMs = Date.parse(d.headers.et)
    } else {
      let doc: unknown
      try {
        doc = JSON.parse(Buffer.from(d.value).toString('utf8'))
      } catch (err) {
        return { reason: `not JSON: ${(err as Error).message}` }
      }
      fp ||= fingerprint(doc)
      if (table.eventTime) eventMs = parseEventTime(getPath(doc, table.eventTime))?.getTime()
    }
    if (table.eventTime && eventMs === undefined && opts.timeBy !== 'ingestion') {
      return { reason: `no readable event time in "${table.eventTime}"` }
    }
    const ms = opts.timeBy === 'ingestion' || eventMs === undefined ? d.timestamp : eventMs
    const qk = `${tk}\u0000${Math.floor(ms / QUARTER)}`
    let dir = dirs.get(qk)
    if (dir === undefined) {
      if (dirs.size > 10_000) dirs.clear()
      dir = partitionPath(table.path, {
        source: d.topic,
        resource,
        format: 'json',
        time: new Date(ms),
        ...(opts.timeZone ? { timeZone: opts.timeZone } : {}),
      })
      dirs.set(qk, dir)
    }
    // Late: its folder is older than the newest one this table has seen (it is still written there).
    const top = newest.get(tk)
    const late = top !== undefined && ms < top.ms && dir !== top.dir
    if (!top || ms > top.ms) newest.set(tk, { ms, dir })
    return {
      resource,
      key: `${resource}\u0000${fp}\u0000${dir}`,
      fp,
      dir,
      table,
      eventMs,
      late,
    }
  }
}
