import type { WeirConfig } from '../../config/schema.js'
import { WeirError } from '../../core/errors.js'
import { ingest } from '../../sources/ingest.js'
import { createSource } from '../../sources/registry.js'
import type { Source } from '../../sources/source.js'
import { backpressure } from '../backpressure.js'
import type { IngestRunOptions, StageSummary } from '../pipeline.js'
import { queryFront } from '../query-front.js'
import type { Resources } from '../resources.js'
import { sum, timed } from '../summary.js'

/** Pulls the sources once into the stream and sums up what each did. */
export async function ingestStage(
  p: Resources,
  names?: readonly string[],
  signal?: AbortSignal,
  options: IngestRunOptions = {},
): Promise<StageSummary> {
  const withParams = overParams(await p.simulated(), options.params)
  const sources = createSources(withParams, names, p.dir)
  const s = await p.stream()
  const waited = new Map<string, number>()
  const lake = queryFront(p)
  const [results, seconds] = await timed(async () => {
    const out = []
    for (const src of sources) {
      if (signal?.aborted) break
      out.push(
        await ingest(src, s, p.store, {
          state: p.state,
          ...(options.backpressure
            ? {
                beforePublish: backpressure(s, src.name, p.config.run.maxLag, signal, (ms) => {
                  waited.set(src.name, (waited.get(src.name) ?? 0) + ms)
                }),
              }
            : {}),
          ...(options.stateName ? { stateName: options.stateName } : {}),
          ...(options.follow ? { follow: true } : {}),
          onProgress: p.progress,
          ...(signal ? { signal } : {}),
          rawPath: (resource) =>
            p.config.tables[`${src.name}.${resource}`]?.landing?.path ?? p.config.landing.path,
          query: (sql) => lake((e) => e.query(sql)).then((r) => r.rows),
          eventTime: (resource) => p.config.tables[`${src.name}.${resource}`]?.eventTime,
          identity: (resource) => {
            const key = p.config.tables[`${src.name}.${resource}`]?.primaryKey
            return key === undefined ? undefined : typeof key === 'string' ? [key] : key
          },
        }),
      )
    }
    return out
  })
  const tables: Record<string, number> = {}
  for (const r of results)
    for (const [res, n] of Object.entries(r.byResource)) tables[`${r.source}_${res}`] = n
  const partial = results.filter((r) => r.partial).map((r) => `${r.source}: ${r.partial}`)
  const recovered = results.filter((r) => r.recovered > 0)
  return {
    ...(partial.length || signal?.aborted
      ? { outcome: 'partial' as const, reason: partial.join('; ') || 'stopped by request' }
      : {}),
    stage: 'ingest',
    records: sum(results.map((r) => r.records)),
    files: sum(results.map((r) => r.files)),
    bytes: sum(results.map((r) => r.bytes)),
    errors: sum(results.map((r) => r.errors)),
    seconds,
    tables,
    notes: [
      ...results.flatMap((r) => (r.partial ? [r.partial] : [])),
      ...recovered.map(
        (r) =>
          `${r.source}: ${r.recovered} records of batches interrupted earlier were in the stream already, not published again`,
      ),
      ...[...waited].map(
        ([src, ms]) =>
          `${src}: waited ${(ms / 1000).toFixed(1)} s for landing (its lag was over run.maxLag, ${p.config.run.maxLag.toLocaleString('en-US')} records)`,
      ),
    ],
  }
}

/** The config with `params` over each source's own (a backfill window's start and end). */
function overParams(base: WeirConfig, params: IngestRunOptions['params']): WeirConfig {
  if (!params) return base
  return {
    ...base,
    sources: Object.fromEntries(
      Object.entries(base.sources).map(([n, s]) => [
        n,
        'params' in s ? ({ ...s, params: { ...s.params, ...params } } as typeof s) : s,
      ]),
    ),
  }
}

/** The configured sources, optionally only some of them by name. */
export function createSources(
  config: WeirConfig,
  names?: readonly string[],
  baseDir = process.cwd(),
): Source[] {
  const wanted = names?.length ? names : Object.keys(config.sources)
  return wanted.map((name) => {
    const cfg = config.sources[name]
    if (!cfg) {
      const known = Object.keys(config.sources)
      throw new WeirError(
        `source "${name}" is not in the config${known.length ? `; sources: ${known.join(', ')}` : ' (it declares no sources)'}`,
        { code: 'SOURCE_UNKNOWN', stage: 'source' },
      )
    }
    return createSource(name, cfg, config.sources, baseDir)
  })
}
