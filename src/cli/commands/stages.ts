import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { WeirError } from '../../core/errors.js'
import { formatBytes, parseBytes, parseDuration } from '../../core/units.js'
import type { StageSummary } from '../../pipeline/pipeline.js'
import { type GlobalOptions, interruption, withPipeline } from '../context.js'
import { log } from '../log.js'
import { renderRows } from '../output.js'
import { recorded } from './record.js'
import { summaryLine } from './summary.js'

/** `weir ingest [source...]`: pull the sources once into the stream, each recorded as its own job's run. */
export async function ingestCommand(sources: string[], globals: GlobalOptions): Promise<void> {
  const signal = interruption()
  await withPipeline(
    globals,
    async (p) => {
      const names = sources.length ? sources : Object.keys(p.config.sources)
      const each: StageSummary[] = []
      for (const name of names) {
        if (signal.aborted) break
        each.push(await recorded(p, name, 'weir ingest', () => p.ingest([name], signal), stats))
      }
      print(sum(each))
    },
    { progress: true },
  )
  if (signal.aborted) process.exitCode = 130
}

/** `weir land [--follow] [--refine]`: write everything waiting in the stream to raw files (and keep at it). */
export async function landCommand(follow: boolean, globals: GlobalOptions, refine = false): Promise<void> {
  const signal = interruption()
  await withPipeline(
    globals,
    async (p) =>
      print(
        await recorded(p, 'land', 'weir land', () => p.land(signal, follow, refine ? { refine } : {}), stats),
      ),
    { progress: true },
  )
  // --follow runs until stopped, so a stop is its normal end (like weir run); without it, a stop
  // leaves the stream undrained, which the exit code says.
  if (signal.aborted && !follow) process.exitCode = 130
}

/** `weir refine [table...] [--rewind <time|file>]`: turn new raw files into trusted Parquet. */
export async function refineCommand(
  tables: string[],
  globals: GlobalOptions,
  rewind?: string,
): Promise<void> {
  await withPipeline(
    globals,
    async (p) =>
      print(
        await recorded(
          p,
          'refine',
          'weir refine',
          () => p.refine(tables.length ? tables : undefined, rewind ? { rewind } : {}),
          stats,
        ),
      ),
    { progress: true },
  )
}

const stats = (s: StageSummary) => ({
  records: s.records,
  files: s.files,
  ...(s.outcome ? { outcome: s.outcome } : {}),
  ...(s.reason ? { note: s.reason } : {}),
})

/** Several runs of one stage as one line: the sums, every note, and the worst outcome. */
function sum(all: readonly StageSummary[]): StageSummary {
  const worst = (['failed', 'skipped', 'partial'] as const).find((o) => all.some((s) => s.outcome === o))
  const reasons = all.flatMap((s) => (s.reason ? [s.reason] : []))
  return {
    stage: all[0]?.stage ?? 'ingest',
    records: all.reduce((n, s) => n + s.records, 0),
    files: all.reduce((n, s) => n + s.files, 0),
    bytes: all.reduce((n, s) => n + s.bytes, 0),
    errors: all.reduce((n, s) => n + s.errors, 0),
    seconds: all.reduce((n, s) => n + s.seconds, 0),
    tables: Object.assign({}, ...all.map((s) => s.tables)),
    notes: all.flatMap((s) => s.notes ?? []),
    ...(worst ? { outcome: worst } : {}),
    ...(reasons.length ? { reason: reasons.join('; ') } : {}),
  }
}

/** `weir refine --status`: per raw table, the files waiting (new, late or changed) and what is done. */
export async function refineStatusCommand(globals: GlobalOptions): Promise<void> {
  const { refineStatus } = await import('../../refine/refine.js')
  await withPipeline(globals, async (p) => {
    const rows = (await refineStatus(p.store, p.state)).map((r) => ({
      table: r.table,
      pending: r.pending,
      pending_bytes: formatBytes(r.pendingBytes),
      changed: r.changed,
      refined: r.refined,
      batches: r.batches,
    }))
    const columns = ['table', 'pending', 'pending_bytes', 'changed', 'refined', 'batches'].map((name) => ({
      name,
      type: '',
    }))
    process.stdout.write(`${rows.length ? renderRows({ columns, rows }, 'table') : '(no raw tables yet)'}\n`)
  })
}

/** `weir refine --compact [table...]`: fewer, larger files in the trusted zone. */
export async function compactCommand(
  tables: string[],
  targetSize: string,
  globals: GlobalOptions,
): Promise<void> {
  const { compact } = await import('../../refine/compact.js')
  await withPipeline(globals, async (p) => {
    const stagingDir = await mkdtemp(join(tmpdir(), 'weir-compact-'))
    try {
      const results = await compact(p.store, await p.engine(), {
        stagingDir,
        targetBytes: parseBytes(targetSize),
        ...(tables.length ? { only: tables } : {}),
      })
      const columns = ['table', 'partitions', 'files_before', 'files_after'].map((name) => ({
        name,
        type: '',
      }))
      const rows = results.map((r) => ({
        table: r.table,
        partitions: r.partitions,
        files_before: r.filesBefore,
        files_after: r.filesAfter,
      }))
      process.stdout.write(
        `${rows.length ? renderRows({ columns, rows }, 'table') : '(no trusted tables yet)'}\n`,
      )
    } finally {
      await rm(stagingDir, { recursive: true, force: true })
    }
  })
}

function print(s: StageSummary): void {
  const seconds = Math.round(s.seconds * 1000) / 1000
  log().event({ event: 'summary', ...s, seconds }, summaryLine(s))
  // Work left undone is said in one line and in the exit code: skipped (another process holds it)
  // fails the command; partial (a stop, a rate limit) is said, and resumes on the next run.
  if (s.outcome) log().say('error', `${s.stage} ${s.outcome}: ${s.reason ?? ''}`)
  if (s.outcome === 'skipped' || s.outcome === 'failed') process.exitCode = 1
}

/** `weir maintain [table...]`: Iceberg snapshot expiry and removal of the files nothing uses. */
export async function maintainCommand(
  tables: string[],
  retention: string | undefined,
  globals: GlobalOptions,
): Promise<void> {
  const { maintainLake } = await import('../../catalog/iceberg/maintain.js')
  await withPipeline(globals, async (p) => {
    const results = await maintainLake(p.store, {
      ...(tables.length ? { only: tables } : {}),
      ...(retention ? { retentionMs: parseDuration(retention) } : {}),
    })
    const missing = tables.filter((t) => !results.some((r) => r.table === t))
    if (missing.length)
      throw new WeirError(
        `maintain: ${missing.join(', ')}: no Iceberg table of that name (trusted or refined)`,
        {
          code: 'CATALOG_NOT_FOUND',
          stage: 'cli',
        },
      )
    const columns = ['table', 'expired', 'snapshots', 'deleted', 'freed'].map((name) => ({ name, type: '' }))
    const rows = results.map((r) => ({ ...r, freed: formatBytes(r.bytes) }))
    process.stdout.write(
      `${rows.length ? renderRows({ columns, rows }, 'table') : '(no Iceberg tables: set tables.<t>.format: iceberg)'}\n`,
    )
  })
}
