import { cp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Column, TableEntry } from '../src/catalog/catalog.js'
import { commitFiles } from '../src/catalog/iceberg/mirror.js'
import { configSchema } from '../src/config/schema.js'
import { createEngine } from '../src/engine/engine.js'
import { openPipeline } from '../src/pipeline/pipeline.js'
import { createLocalStore } from '../src/storage/local/local-store.js'
import { type BenchResult, median } from './types.js'

const RUNS = 5

/**
 * Refine into Iceberg tables (`format: iceberg`: the same Parquet plus one Iceberg commit per
 * batch) against refine into plain Parquet, over the same landed batches, interleaved, five
 * runs each (goal: at least 0.9 of the throughput). Then what one commit costs as a table grows
 * to 10,000 data files, a file a commit (goal: flat).
 */
export async function icebergBench(dir: string, count: number, files = 10_000): Promise<BenchResult> {
  const lake = join(dir, 'lake')
  const base = {
    lake,
    sources: { x: { kind: 'demo', dataset: 'x', count } },
    landing: { maxRecords: 5000 },
    // Batches of about 8 MB: a commit for every few raw files, as a running pipeline makes them.
    engine: { refineBatch: '8MB' },
  }
  const config = (format: 'parquet' | 'iceberg') =>
    configSchema.parse({
      ...base,
      tables: { 'x.tweets': { eventTime: 'created_at', primaryKey: 'id', format } },
    })
  const p = await openPipeline({ config: config('parquet'), file: undefined, dir })
  await p.ingest()
  await p.land()
  await p.close()
  const pristine = join(dir, 'pristine')
  await cp(lake, pristine, { recursive: true })
  const runs: Record<'parquet' | 'iceberg', number[]> = { parquet: [], iceberg: [] }
  let records = 0
  // Five each: on a shared 2-core machine one run of either may take a quarter longer than the next.
  for (let i = 0; i < RUNS; i++) {
    for (const format of ['parquet', 'iceberg'] as const) {
      await rm(lake, { recursive: true, force: true })
      await cp(pristine, lake, { recursive: true })
      const run = await openPipeline({ config: config(format), file: undefined, dir })
      await run.engine()
      const r = await run.refine(['x_tweets'])
      runs[format].push(r.seconds)
      records = r.records
      await run.close()
    }
  }
  const parquet = median(runs.parquet)
  const iceberg = median(runs.iceberg)
  const cost = await commitCost(join(dir, 'commits'), files)
  const ms = (x: number) => `${x.toFixed(1)} ms`
  return {
    name: 'iceberg',
    unit: 'records/s',
    value: records / iceberg,
    baseline: { name: 'refine of the same batches into plain Parquet', value: records / parquet },
    ratio: parquet / iceberg,
    notes: `${records.toLocaleString('en-US')} tweets deduped by id, refined in batches of 8 MB (a commit each), median of ${RUNS} interleaved runs: Iceberg ${iceberg.toFixed(2)} s, Parquet ${parquet.toFixed(2)} s (per-run ratios ${runs.iceberg.map((x, i) => (runs.parquet[i]! / x).toFixed(2)).join(', ')}); goal ratio >= 0.9; one commit of one file as the table grows (its live files read, the commit, the catalog entry): ${cost.map((c) => `${ms(c.ms)} at ${c.files.toLocaleString('en-US')} files`).join(', ')} (goal: flat)`,
    details: { runs, commitCost: cost },
  }
}

/**
 * Milliseconds per commit (median of 100) around each size the table reaches, appending one file a
 * commit as refine does: the table's live files read (from memory), the commit, the catalog entry.
 */
async function commitCost(root: string, total: number) {
  const store = createLocalStore(root)
  const engine = await createEngine({ threads: 1 })
  const at = 'trusted/bench/t/'
  const columns: Column[] = [{ name: 'id', type: 'BIGINT' }]
  let entry: TableEntry = {
    zone: 'trusted',
    name: 'bench_t',
    location: at,
    format: 'parquet',
    partitioning: ['dt'],
    columns,
    iceberg: true,
    updatedAt: new Date().toISOString(),
  }
  const marks = [100, 1_000, total]
  const out: { files: number; ms: number }[] = []
  let window: number[] = []
  for (let i = 1; i <= total; i++) {
    const key = `${at}dt=2026-11-20/part-${i}.parquet`
    const t0 = performance.now()
    // Weir's retention as a table property: here every replaced snapshot expires at once.
    entry = await commitFiles(store, engine, entry, {
      written: [key],
      known: new Map([[key, { rows: 100, bytes: 10_000 }]]),
      retentionMs: 0,
    })
    window.push(performance.now() - t0)
    if (window.length > 100) window.shift()
    if (marks.includes(i)) {
      out.push({ files: i, ms: median(window) })
      window = []
    }
  }
  await engine.close()
  await rm(root, { recursive: true, force: true })
  return out
}
