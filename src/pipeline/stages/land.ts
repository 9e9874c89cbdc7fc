import { listTables } from '../../catalog/catalog.js'
import { WeirError } from '../../core/errors.js'
import { parseBytes, parseDuration } from '../../core/units.js'
import { land } from '../../landing/landing.js'
import { microBatches } from '../micro-batches.js'
import type { LandOptions, StageSummary } from '../pipeline.js'
import type { Resources } from '../resources.js'
import { timed } from '../summary.js'
import { changedTables, syncAfterRefine } from './glue.js'
import { refineTables } from './refine.js'

/** Lands what the stream holds (with `follow`, until `signal`), refining each round as it lands when asked. */
export async function landStage(
  p: Resources,
  signal?: AbortSignal,
  follow?: boolean,
  options: LandOptions = {},
): Promise<StageSummary> {
  const s = await p.stream()
  const l = p.config.landing
  const micro = options.refine ? microBatches((only) => refineAndSync(p, only), options.onRefine) : undefined
  const landed = { records: 0, files: 0, late: 0 }
  // Records behind their table's newest folder are late only for a table that had files before:
  // a first landing of a newest-first API (X's search) is all "behind", and nothing is late.
  const before = (await listTables(p.store, 'raw')).map((t) => `${t.location.replace(/\/+$/, '')}/`)
  const round = { records: 0, files: 0 }
  const [r, seconds] = await timed(() =>
    land(s, p.store, {
      onRound: (tables) => {
        micro?.add(tables)
        if (round.files) options.onLanded?.({ ...round })
        round.records = 0
        round.files = 0
      },
      ...(options.partitions ? { partitions: options.partitions } : {}),
      topics: Object.keys(p.config.sources),
      state: p.state,
      table: (source, resource) => {
        const t = p.config.tables[`${source}.${resource}`]
        return {
          maxRecords: t?.landing?.maxRecords ?? l.maxRecords,
          maxBytes: parseBytes(t?.landing?.maxBytes ?? l.maxBytes),
          maxAgeMs: parseDuration(t?.landing?.maxAge ?? l.maxAge),
          path: t?.landing?.path ?? l.path,
          eventTime: t?.eventTime,
        }
      },
      timeBy: l.timeBy,
      timeZone: l.timeZone,
      compression: l.compression,
      extension: l.extension,
      maxOpenFiles: l.maxOpenFiles,
      maxBufferedBytes: parseBytes(l.maxBufferedBytes),
      maxRecordBytes: parseBytes(l.maxRecordBytes),
      ...(follow ? { follow } : {}),
      ...(signal ? { signal } : {}),
      onFile: (f) => {
        landed.records += f.records
        landed.files++
        round.records += f.records
        round.files++
        if (f.late && before.some((l) => f.key.startsWith(l))) landed.late += f.late
        p.progress({ stage: 'land', label: 'landed', done: landed.records, unit: 'records' })
      },
    }),
  )
  const notes = landed.late
    ? [
        `${landed.late} late records (behind their table's newest folder) were written to the folders of their event time`,
      ]
    : []
  if (micro) {
    const m = await micro.finish()
    notes.push(
      `refined ${m.records} records into ${m.files} trusted files in ${m.runs} micro-batches`,
      ...m.failures.map((f) => `refine failed (retried with the next files): ${f}`),
    )
  }
  return {
    stage: 'land',
    records: r.records,
    files: r.files,
    bytes: r.bytes,
    errors: r.errors,
    seconds,
    tables: {},
    notes,
  }
}

/** A micro-batch: refine, then Glue follows (with `catalog.glue`); a failed sync fails the micro-batch, said. */
async function refineAndSync(p: Resources, only: readonly string[]) {
  const results = await refineTables(p, only)
  const glue = await syncAfterRefine(p, changedTables(results))
  if (glue) throw new WeirError(glue, { code: 'GLUE_SYNC', stage: 'catalog', retryable: true })
  return results
}
