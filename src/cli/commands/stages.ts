import type { StageSummary } from '../../pipeline/pipeline.js'
import { type GlobalOptions, interruption, withPipeline } from '../context.js'
import { summaryLine } from './summary.js'

/** `weir ingest [source...]`: pull the sources once into the stream. */
export async function ingestCommand(sources: string[], globals: GlobalOptions): Promise<void> {
  const signal = interruption()
  await withPipeline(globals, async (p) => print(await p.ingest(sources, signal)))
  if (signal.aborted) process.exitCode = 130
}

/** `weir land [--follow]`: write everything waiting in the stream to raw files (and keep at it). */
export async function landCommand(follow: boolean, globals: GlobalOptions): Promise<void> {
  const signal = interruption()
  await withPipeline(globals, async (p) => print(await p.land(signal, follow)))
  if (signal.aborted) process.exitCode = 130
}

/** `weir refine [table...]`: turn new raw files into trusted Parquet. */
export async function refineCommand(tables: string[], globals: GlobalOptions): Promise<void> {
  await withPipeline(globals, async (p) => print(await p.refine(tables.length ? tables : undefined)))
}

function print(s: StageSummary): void {
  process.stdout.write(`${summaryLine(s)}\n`)
}
