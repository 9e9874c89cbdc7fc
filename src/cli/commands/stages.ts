import type { StageSummary } from '../../pipeline/pipeline.js'
import { type GlobalOptions, withPipeline } from '../context.js'
import { summaryLine } from './summary.js'

/** `weir ingest [source...]`: pull the sources once into the stream. */
export async function ingestCommand(sources: string[], globals: GlobalOptions): Promise<void> {
  await withPipeline(globals, async (p) => print(await p.ingest(sources)))
}

/** `weir land`: write everything waiting in the stream to raw files. */
export async function landCommand(globals: GlobalOptions): Promise<void> {
  await withPipeline(globals, async (p) => print(await p.land()))
}

/** `weir refine [table...]`: turn new raw files into trusted Parquet. */
export async function refineCommand(tables: string[], globals: GlobalOptions): Promise<void> {
  await withPipeline(globals, async (p) => print(await p.refine(tables.length ? tables : undefined)))
}

function print(s: StageSummary): void {
  process.stdout.write(`${summaryLine(s)}\n`)
}
