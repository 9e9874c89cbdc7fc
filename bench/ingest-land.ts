import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { configSchema } from '../src/config/schema.js'
import { openPipeline } from '../src/pipeline/pipeline.js'
import { createDemoSource } from '../src/sources/demo/demo-source.js'
import { type BenchResult, seconds } from './types.js'

/**
 * Source → embedded stream (fsync per batch) → raw NDJSON files of 100 records, against the floor:
 * writing the same records as 100-record files straight to disk with no stream in between.
 */
export async function ingestLand(dir: string, count: number): Promise<BenchResult> {
  const config = configSchema.parse({
    lake: join(dir, 'lake'),
    sources: { x: { kind: 'demo', dataset: 'x', count } },
    tables: { 'x.tweets': { eventTime: 'created_at' } },
  })
  const p = await openPipeline({ config, file: undefined, dir })
  const ingest = await p.ingest()
  const landed = await p.land()
  await p.close()
  const weir = ingest.seconds + landed.seconds

  // Baseline: the same records, serialised and written as 100-line files, nothing else.
  const records: unknown[] = []
  for await (const b of createDemoSource(
    'x',
    configSchema.parse({ sources: { x: { kind: 'demo', dataset: 'x', count } } }).sources.x as never,
  ).pull({
    cursor: undefined,
    signal: new AbortController().signal,
    state: { get: async () => undefined, put: async () => {} },
  })) {
    for (const r of b.records) records.push(r.data)
  }
  const out = join(dir, 'plain')
  await mkdir(out, { recursive: true })
  const base = await seconds(async () => {
    for (let i = 0; i < records.length; i += 100) {
      const body = `${records
        .slice(i, i + 100)
        .map((r) => JSON.stringify(r))
        .join('\n')}\n`
      await writeFile(join(out, `${i}.ndjson`), body)
    }
  })
  const total = ingest.records
  return {
    name: 'ingest-land',
    unit: 'records/s',
    value: total / weir,
    baseline: { name: 'plain fs.writeFile of the same files', value: total / base },
    ratio: total / weir / (total / base),
    notes: `${total.toLocaleString('en-US')} records, ${landed.files} files; ingest ${ingest.seconds.toFixed(2)} s + land ${landed.seconds.toFixed(2)} s (stream fsynced per 250-record batch, files fsynced)`,
    details: {
      ingestSeconds: ingest.seconds,
      landSeconds: landed.seconds,
      files: landed.files,
      baselineSeconds: base,
    },
  }
}
