import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatBytes, parseBytes } from '../../core/units.js'
import type { StageSummary } from '../../pipeline/pipeline.js'
import { type GlobalOptions, interruption, withPipeline } from '../context.js'
import { renderRows } from '../output.js'
import { summaryLine } from './summary.js'

/** `weir ingest [source...]`: pull the sources once into the stream. */
export async function ingestCommand(sources: string[], globals: GlobalOptions): Promise<void> {
  const signal = interruption()
  await withPipeline(globals, async (p) => print(await p.ingest(sources, signal)))
  if (signal.aborted) process.exitCode = 130
}

/** `weir land [--follow] [--refine]`: write everything waiting in the stream to raw files (and keep at it). */
export async function landCommand(follow: boolean, globals: GlobalOptions, refine = false): Promise<void> {
  const signal = interruption()
  await withPipeline(globals, async (p) => print(await p.land(signal, follow, refine ? { refine } : {})))
  if (signal.aborted) process.exitCode = 130
}

/** `weir refine [table...] [--rewind <time|file>]`: turn new raw files into trusted Parquet. */
export async function refineCommand(
  tables: string[],
  globals: GlobalOptions,
  rewind?: string,
): Promise<void> {
  await withPipeline(globals, async (p) =>
    print(await p.refine(tables.length ? tables : undefined, rewind ? { rewind } : {})),
  )
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
  process.stdout.write(`${summaryLine(s)}\n`)
  // Work left undone is said in one line and in the exit code: skipped (another process holds it)
  // fails the command; partial (a stop, a rate limit) is said, and resumes on the next run.
  if (s.outcome) process.stderr.write(`weir: ${s.stage} ${s.outcome}: ${s.reason ?? ''}\n`)
  if (s.outcome === 'skipped') process.exitCode = 1
}
