import { execFileSync } from 'node:child_process'
import { cp, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { configSchema } from '../src/config/schema.js'
import { createEngine, sqlList, sqlString } from '../src/engine/engine.js'
import { openPipeline, type StageSummary } from '../src/pipeline/pipeline.js'
import { type BenchResult, median, seconds } from './types.js'

/**
 * Weir's refine (raw NDJSON → snappy Parquet by dt=, catalog, bookmark) against DuckDB's own
 * `COPY ... TO (FORMAT parquet, PARTITION_BY (dt))` of the same files in the same run.
 */
export async function refineVsCopy(dir: string, count: number, rssMegabytes = 1024): Promise<BenchResult> {
  const lake = join(dir, 'lake')
  const config = configSchema.parse({
    lake,
    sources: { x: { kind: 'demo', dataset: 'x', count } },
    landing: { maxRecords: 5000 },
    tables: { 'x.tweets': { eventTime: 'created_at' } },
  })
  const p = await openPipeline({ config, file: undefined, dir })
  await p.ingest()
  await p.land()
  await p.close()
  const pristine = join(dir, 'pristine')
  await cp(lake, pristine, { recursive: true })

  const rawDir = join(pristine, 'raw/x/json/tweets')
  const files = (await readdir(rawDir, { recursive: true }))
    .filter((f) => f.endsWith('.ndjson') && !f.split('/').pop()!.startsWith('_'))
    .map((f) => join(rawDir, f))
  // Interleaved runs, each refine on a fresh copy of the landed lake; the medians are compared.
  const weir: number[] = []
  const copies: number[] = []
  let refined: StageSummary | undefined
  for (let i = 0; i < 3; i++) {
    await rm(lake, { recursive: true, force: true })
    await cp(pristine, lake, { recursive: true })
    const run = await openPipeline({ config, file: undefined, dir })
    await run.engine()
    refined = await run.refine(['x_tweets'])
    weir.push(refined.seconds)
    await run.close()
    const engine = await createEngine()
    const out = join(dir, `copy-${i}`)
    copies.push(
      await seconds(() =>
        engine.run(
          `COPY (SELECT *, strftime(try_cast(created_at AS TIMESTAMP), '%Y-%m-%d') AS dt FROM read_json(${sqlList(files)}, format = 'newline_delimited', union_by_name = true))
           TO ${sqlString(out)} (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (dt))`,
        ),
      ),
    )
    await engine.close()
    await rm(out, { recursive: true, force: true })
  }
  const ours = median(weir)
  const base = median(copies)
  // Peak RSS refining about 1 GB of raw tweets (with dedupe by id), in its own process on dist/:
  // with the default settings, and with engine: { memoryLimit: 1GB, refineBatch: 96MB } (bounded
  // memory: a limit also has DuckDB's allocator return freed memory at once, and smaller batches).
  // The files are written by a process of their own first, so the refine's RSS is its own.
  const child = (knobs?: Record<string, string>) => {
    const run = (env: Record<string, string>) =>
      execFileSync(
        process.execPath,
        ['bench/refine-child.mjs', join(dir, knobs ? 'big-limit' : 'big'), String(rssMegabytes)],
        { encoding: 'utf8', env: { ...process.env, ...env } },
      )
    run({ WEIR_GENERATE_ONLY: '1' })
    return JSON.parse(run(knobs ?? {})) as {
      rawBytes: number
      records: number
      seconds: number
      maxRssMB: number
    }
  }
  const big = child()
  const bounded = child({ WEIR_MEMORY: '1GB', WEIR_BATCH_MB: '96' })
  return {
    name: 'refine-vs-duckdb-copy',
    unit: 's',
    value: ours,
    baseline: { name: 'DuckDB COPY of the same files', value: base },
    ratio: ours / base,
    notes: `median of 3 interleaved runs; ${refined!.records.toLocaleString('en-US')} tweets from ${files.length} raw files → ${refined!.files} Parquet files (structs flattened); ${Math.round(refined!.records / ours).toLocaleString('en-US')} records/s; goal ratio (time) <= 1.25, i.e. >= 0.8 of COPY's throughput; ${(big.rawBytes / 1e6).toFixed(0)} MB of raw tweets (${big.records.toLocaleString('en-US')}, deduped by id) refined in ${big.seconds.toFixed(1)} s with a peak RSS of ${Math.round(big.maxRssMB)} MB, and with engine: { memoryLimit: 1GB, refineBatch: 96MB } in ${bounded.seconds.toFixed(1)} s with a peak RSS of ${Math.round(bounded.maxRssMB)} MB (goal <= 400 MB)`,
    details: {
      runs: weir,
      copies,
      records: refined!.records,
      rawFiles: files.length,
      parquetFiles: refined!.files,
      big,
      bounded,
    },
  }
}
