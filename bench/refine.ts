import { execFileSync } from 'node:child_process'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { configSchema } from '../src/config/schema.js'
import { createEngine, sqlList, sqlString } from '../src/engine/engine.js'
import { openPipeline } from '../src/pipeline/pipeline.js'
import { type BenchResult, seconds } from './types.js'

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
  const refined = await p.refine(['x_tweets'])
  await p.close()

  const rawDir = join(lake, 'raw/x/json/tweets')
  const files = (await readdir(rawDir, { recursive: true }))
    .filter((f) => f.endsWith('.ndjson') && !f.split('/').pop()!.startsWith('_'))
    .map((f) => join(rawDir, f))
  const engine = await createEngine()
  const base = await seconds(() =>
    engine.run(
      `COPY (SELECT *, strftime(try_cast(created_at AS TIMESTAMP), '%Y-%m-%d') AS dt FROM read_json(${sqlList(files)}, format = 'newline_delimited', union_by_name = true))
       TO ${sqlString(join(dir, 'copy'))} (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (dt))`,
    ),
  )
  await engine.close()
  // Peak RSS refining about 1 GB of raw tweets (with dedupe by id), in its own process on dist/.
  const big = JSON.parse(
    execFileSync(process.execPath, ['bench/refine-child.mjs', join(dir, 'big'), String(rssMegabytes)], {
      encoding: 'utf8',
    }),
  ) as { rawBytes: number; records: number; seconds: number; maxRssMB: number }
  return {
    name: 'refine-vs-duckdb-copy',
    unit: 's',
    value: refined.seconds,
    baseline: { name: 'DuckDB COPY of the same files', value: base },
    ratio: refined.seconds / base,
    notes: `${refined.records.toLocaleString('en-US')} tweets from ${files.length} raw files → ${refined.files} Parquet files (flattened, hashtags as a child table); ${Math.round(refined.records / refined.seconds).toLocaleString('en-US')} records/s; goal ratio (time) <= 1.25, i.e. >= 0.8 of COPY's throughput; ${(big.rawBytes / 1e6).toFixed(0)} MB of raw tweets (${big.records.toLocaleString('en-US')}, deduped by id) refined in ${big.seconds.toFixed(1)} s with a peak RSS of ${Math.round(big.maxRssMB)} MB`,
    details: { records: refined.records, rawFiles: files.length, parquetFiles: refined.files, big },
  }
}
