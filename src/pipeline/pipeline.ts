import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AlertEvent, watchAlerts } from '../alerts/watch.js'
import { listTables } from '../catalog/catalog.js'
import { attachLake } from '../catalog/views.js'
import type { LoadedConfig } from '../config/load.js'
import type { WeirConfig } from '../config/schema.js'
import { WeirError } from '../core/errors.js'
import { parseBytes, parseDuration } from '../core/units.js'
import { createEngine, type Engine, type QueryResult, type QueryStream, sqlString } from '../engine/engine.js'
import { land } from '../landing/landing.js'
import { compile as compileModel } from '../models/compile.js'
import { levels as modelLevels, select as selectModels } from '../models/dag.js'
import { loadProject } from '../models/project.js'
import { type ModelResult, resolverFor as modelResolver, runModels } from '../models/run.js'
import { runTests, type TestResult } from '../models/tests.js'
import { type RefineResult, refine } from '../refine/refine.js'
import { parseRewind, rewind } from '../refine/rewind.js'
import { ingest } from '../sources/ingest.js'
import { createSource } from '../sources/registry.js'
import type { Source } from '../sources/source.js'
import { createLeases, type Leases } from '../state/lease.js'
import { createStateStore, type StateStore } from '../state/state.js'
import { openStore } from '../storage/registry.js'
import type { ObjectStore } from '../storage/storage.js'
import { openStream, type StreamConfig } from '../stream/registry.js'
import type { Stream } from '../stream/stream.js'
import { type LoadResult, loadPostgres } from '../warehouse/postgres.js'
import { backpressure } from './backpressure.js'
import { microBatches } from './micro-batches.js'

/** What one stage run did, in the units every stage shares (the demo and `weir status` print these). */
export interface StageSummary {
  readonly stage: 'ingest' | 'land' | 'refine' | 'model' | 'alerts' | 'query'
  readonly records: number
  readonly files: number
  readonly bytes: number
  readonly errors: number
  readonly seconds: number
  /** Records per table (`x_tweets`), where the stage knows them. */
  readonly tables: Readonly<Record<string, number>>
  /** Things a user should know that are not errors (e.g. records landed by ingestion time). */
  readonly notes?: readonly string[]
  /**
   * Set when the stage left work undone: `partial` (resumes next run), `skipped` (another process
   * holds it) or `failed` (done with, but not achieved: alerts that could not be delivered).
   */
  readonly outcome?: 'partial' | 'skipped' | 'failed'
  /** Why, in one line. */
  readonly reason?: string
}

/**
 * Everything a project's stages share, opened from its config: the lake's object store, its state,
 * and, on first use, the stream and the SQL engine. This is the only module that wires stages together.
 *
 * @example
 * const p = await openPipeline(await loadConfig())
 * await p.ingest(); await p.land(); await p.refine()
 */
export interface Pipeline {
  readonly config: WeirConfig
  /** The folder the config's relative paths (models, dashboards) resolve against. */
  readonly dir: string
  readonly store: ObjectStore
  readonly state: StateStore
  /** This process's leases in the lake (single-writer jobs across processes). */
  readonly leases: Leases
  stream(): Promise<Stream>
  engine(): Promise<Engine>
  /** Pulls the sources once; `signal` stops it after the batch in hand, with that batch's cursor saved. */
  ingest(names?: readonly string[], signal?: AbortSignal, options?: IngestRunOptions): Promise<StageSummary>
  /**
   * Lands what the stream holds and returns; with `follow`, keeps landing until `signal` aborts.
   * `signal` stops it early, after writing and committing what it took.
   */
  land(signal?: AbortSignal, follow?: boolean, options?: LandOptions): Promise<StageSummary>
  /**
   * Refines what is pending; with `rewind` (a time, a duration ago, or a raw file or folder), first
   * takes the trusted partitions those raw files went to out, to rebuild them from raw.
   */
  refine(
    only?: readonly string[],
    options?: {
      readonly rewind?: string
      /** Wait for a table another live process refines (up to its lease) instead of skipping it. */
      readonly waitForLease?: boolean
    },
  ): Promise<StageSummary>
  /**
   * Builds the SQL models (`select`: names, `name+`, `+name`, `tag:x`) into the refined zone, then
   * runs their data tests (`test: false` skips them, `only` runs the tests alone).
   */
  models(options?: ModelsOptions): Promise<ModelsReport>
  /** The compiled SQL of the selected models, in build order. */
  compileModels(select?: readonly string[]): Promise<{ model: string; path: string; sql: string }[]>
  /**
   * Evaluates the alert rules on the stream (a consumer group of its own) and delivers what fires;
   * with `follow`, keeps watching until `signal` aborts.
   */
  alerts(signal?: AbortSignal, follow?: boolean, onEvent?: (e: AlertEvent) => void): Promise<StageSummary>
  /** Loads the refined tables into PostgreSQL (config `warehouse.postgres`, overridden by `options`). */
  loadPostgres(options?: {
    url?: string
    schema?: string
    select?: readonly string[]
    fullRefresh?: boolean
  }): Promise<readonly LoadResult[]>
  /** Runs SQL over every catalog table (`select * from trusted.x_tweets`). */
  query(sql: string): Promise<QueryResult>
  /** Writes a query's result as one snappy Parquet file; returns its row count. */
  exportParquet(sql: string, file: string): Promise<number>
  /** The same, yielding rows chunk by chunk for large results. */
  queryStream(sql: string): Promise<QueryStream>
  close(): Promise<void>
}

export interface ModelsOptions {
  readonly select?: readonly string[]
  readonly fullRefresh?: boolean
  /** true (default): build, then test; false: build only; 'only': test only. */
  readonly test?: boolean | 'only'
  readonly now?: Date
  /** Where the project's models are (default: beside the config). */
  readonly projectDir?: string
}

export interface ModelsReport {
  readonly models: readonly ModelResult[]
  readonly tests: readonly TestResult[]
  readonly seconds: number
}

export interface IngestRunOptions {
  /** Parameters over the sources' own (a backfill window's start_time and end_time). */
  readonly params?: Readonly<Record<string, string>>
  /** Where the cursor is kept, instead of the source's own (a backfill window keeps its own). */
  readonly stateName?: string
  /** Wait before publishing while landing's lag is over `run.maxLag` (not when landing runs after, as in --once). */
  readonly backpressure?: boolean
}

export interface LandOptions {
  /**
   * Refine the tables each round of files wrote to, as soon as it is committed (micro-batches, one
   * at a time, beside the landing), and once more at the end.
   */
  readonly refine?: boolean
  /** Called after each micro-batch refine: what it did, or why it failed. */
  readonly onRefine?: (run: { results: readonly RefineResult[]; seconds: number; error?: unknown }) => void
  /** Only these partitions of each topic (processes sharing the landing; see `LandingOptions.partitions`). */
  readonly partitions?: (topic: string, all: readonly string[]) => Promise<readonly string[]>
}

export interface OpenOptions {
  /** Where the embedded stream lives; see `defaultStreamDir`. */
  readonly streamDir?: string
  /** Told things a user must know that are not errors (sources served by the simulator). */
  readonly onNote?: (line: string) => void
}

export async function openPipeline(loaded: LoadedConfig, options: OpenOptions = {}): Promise<Pipeline> {
  const { config, dir } = loaded
  const store = await openStore(config.lake, config.storage, dir)
  const state = createStateStore(store)
  const leases = createLeases(store)
  let stream: Promise<Stream> | undefined
  let engine: Promise<Engine> | undefined
  /** How many tables the engine's views cover. */
  let attached = 0
  let staging: string | undefined
  const streamConfig: StreamConfig = options.streamDir
    ? { kind: 'embedded', dir: options.streamDir, segmentBytes: '128MB', partitions: 1 }
    : config.stream
  const getStream = () => {
    stream ??= openStream(streamConfig, { lake: config.lake, base: dir, state })
    return stream
  }
  const duckdbTemp = join(tmpdir(), `weir-duckdb-${process.pid}-${Date.now()}`)
  const getEngine = () => {
    engine ??= createEngine({
      // Where DuckDB spills what does not fit its memory limit (refine stages each batch in a temp table).
      tempDirectory: duckdbTemp,
      ...(config.engine.threads ? { threads: config.engine.threads } : {}),
      ...(config.engine.memoryLimit ? { memoryLimit: config.engine.memoryLimit } : {}),
    })
    return engine
  }
  /**
   * Runs against the lake's views, and says so when a query fails on a lake with no tables. The views
   * are made again for each query: refine swaps a table's live files, and a pipeline that lands and
   * refines while it serves queries must not read a list of files that are gone.
   */
  const withHint = async <T>(run: (e: Engine) => Promise<T>): Promise<T> => {
    const e = await getEngine()
    attached = (await attachLake(e, store)).length
    try {
      return await run(e)
    } catch (err) {
      if (attached === 0 && err instanceof WeirError && /Catalog Error/.test(err.message)) {
        throw new WeirError(
          `${err.message}; the lake ${store.uri} has no tables yet: run \`weir demo --lake ${config.lake}\`, or ingest, land and refine first`,
          { code: 'LAKE_EMPTY', stage: 'query', cause: err },
        )
      }
      throw err
    }
  }
  const runRefine = async (only?: readonly string[], waitForLease = false) => {
    const e = await getEngine()
    staging ??= await mkdtemp(join(tmpdir(), 'weir-staging-'))
    return refine(store, e, state, {
      tables: config.tables,
      stagingDir: staging,
      leases,
      waitForLease,
      ...(only ? { only } : {}),
    })
  }
  /**
   * Sources whose baseUrl is "simulator" (a project made by `weir init`, until real credentials are
   * set) are served by Weir's API simulator, started in this process on first use.
   */
  let simulator: Promise<{ url: string; close(): Promise<void> }> | undefined
  const withSimulator = async (c: WeirConfig): Promise<WeirConfig> => {
    const simulated = Object.entries(c.sources).filter(
      ([, s]) => (s as { baseUrl?: string }).baseUrl === 'simulator',
    )
    if (!simulated.length) return c
    if (!simulator)
      options.onNote?.(
        `${simulated.map(([n]) => n).join(', ')}: baseUrl is "simulator", so ${simulated.length > 1 ? 'these sources get' : 'this source gets'} made-up data from Weir's built-in API simulator, not the real API (set the credentials the config reads, in .env or the environment)`,
      )
    simulator ??= import('../sources/simulator/simulator.js').then((m) =>
      m.startSimulator({ historyDays: 3 }),
    )
    const { url } = await simulator
    return {
      ...c,
      sources: {
        ...c.sources,
        ...Object.fromEntries(simulated.map(([n, s]) => [n, { ...s, baseUrl: url }])),
      },
    }
  }
  const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
    const t0 = performance.now()
    const out = await fn()
    return [out, (performance.now() - t0) / 1000]
  }

  return {
    config,
    dir,
    store,
    state,
    leases,
    stream: getStream,
    engine: getEngine,
    async ingest(names, signal, options = {}) {
      const base = await withSimulator(config)
      const withParams = options.params
        ? {
            ...base,
            sources: Object.fromEntries(
              Object.entries(base.sources).map(([n, s]) => [
                n,
                'params' in s ? { ...s, params: { ...s.params, ...options.params } } : s,
              ]),
            ),
          }
        : base
      const sources = createSources(withParams, names, dir)
      const s = await getStream()
      const waited = new Map<string, number>()
      const [results, seconds] = await timed(async () => {
        const out = []
        for (const src of sources) {
          if (signal?.aborted) break
          out.push(
            await ingest(src, s, store, {
              state,
              ...(options.backpressure
                ? {
                    beforePublish: backpressure(s, src.name, config.run.maxLag, signal, (ms) => {
                      waited.set(src.name, (waited.get(src.name) ?? 0) + ms)
                    }),
                  }
                : {}),
              ...(options.stateName ? { stateName: options.stateName } : {}),
              ...(signal ? { signal } : {}),
              rawPath: config.landing.path,
              eventTime: (resource) => config.tables[`${src.name}.${resource}`]?.eventTime,
              identity: (resource) => {
                const key = config.tables[`${src.name}.${resource}`]?.primaryKey
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
              `${src}: waited ${(ms / 1000).toFixed(1)} s for landing (its lag was over run.maxLag, ${config.run.maxLag.toLocaleString('en-US')} records)`,
          ),
        ],
      }
    },
    async land(signal, follow, options = {}) {
      const s = await getStream()
      const l = config.landing
      const micro = options.refine ? microBatches((only) => runRefine(only), options.onRefine) : undefined
      const [r, seconds] = await timed(() =>
        land(s, store, {
          ...(micro ? { onRound: micro.add } : {}),
          ...(options.partitions ? { partitions: options.partitions } : {}),
          topics: Object.keys(config.sources),
          state,
          table: (source, resource) => {
            const t = config.tables[`${source}.${resource}`]
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
        }),
      )
      const notes = r.late
        ? [`${r.late} late records were written to the past folders of their event time`]
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
    },
    async refine(only, options = {}) {
      // DuckDB's start-up is not refine's time.
      await getEngine()
      const rewound: string[] = []
      if (options.rewind) {
        const target = parseRewind(options.rewind)
        for (const raw of await listTables(store, 'raw')) {
          if (only && !only.includes(raw.name)) continue
          const r = await rewind(store, state, raw, target)
          if (r.named === 0) continue
          const parts = r.partitions === 'all' ? 'the whole table' : r.partitions.join(', ')
          rewound.push(
            `${r.table}: rewound ${r.named} raw files; rebuilding ${parts} from ${r.files} raw files`,
          )
        }
        if (!rewound.length) {
          throw new WeirError(`--rewind ${options.rewind}: no refined raw file matches`, {
            code: 'REWIND_NOTHING',
            stage: 'refine',
          })
        }
      }
      const [results, seconds] = await timed(() => runRefine(only, options.waitForLease))
      const skipped = results.filter((r) => r.skipped).map((r) => `${r.table}: ${r.skipped}`)
      return {
        ...(skipped.length
          ? {
              outcome: skipped.length === results.length ? ('skipped' as const) : ('partial' as const),
              reason: skipped.join('; '),
            }
          : {}),
        stage: 'refine',
        records: sum(results.map((r) => r.records)),
        files: sum(results.map((r) => r.files)),
        bytes: sum(results.map((r) => r.bytes)),
        errors: sum(results.map((r) => r.errors)),
        seconds,
        tables: Object.fromEntries(results.map((r) => [r.table, r.records])),
        notes: [...rewound, ...results.flatMap((r) => r.warnings)],
      }
    },
    async models(options = {}) {
      const e = await getEngine()
      const project = await loadProject(options.projectDir ?? dir, config.models)
      staging ??= await mkdtemp(join(tmpdir(), 'weir-staging-'))
      const t0 = performance.now()
      const models =
        options.test === 'only'
          ? []
          : await runModels(store, e, project, {
              stagingDir: staging,
              concurrency: config.models.concurrency,
              ...(options.select ? { select: options.select } : {}),
              ...(options.fullRefresh ? { fullRefresh: true } : {}),
              ...(options.now ? { now: options.now } : {}),
            })
      // Tests of the selected models (all when none is selected); after a build, of those that built.
      const selected = options.select?.length ? selectModels(project, options.select) : undefined
      const built = new Set(
        models.filter((m) => m.action !== 'failed' && m.action !== 'skipped').map((m) => m.model),
      )
      const scope = options.test === 'only' ? selected : built
      const tests = options.test === false ? [] : await runTests(store, e, project, scope)
      return { models, tests, seconds: (performance.now() - t0) / 1000 }
    },
    async compileModels(select) {
      const project = await loadProject(dir, config.models)
      const order = modelLevels(project, selectModels(project, select ?? [])).flat()
      const catalog = new Map((await listTables(store)).map((t) => [`${t.zone}.${t.name}`, t]))
      return order.map((name) => {
        const m = project.models.get(name)!
        return { model: name, path: m.path, sql: compileModel(m, modelResolver(catalog)) }
      })
    },
    async loadPostgres(options = {}) {
      const e = await getEngine()
      staging ??= await mkdtemp(join(tmpdir(), 'weir-staging-'))
      const w = config.warehouse?.postgres
      const url = options.url ?? w?.url
      const select = options.select ?? w?.select
      return loadPostgres(store, e, state, {
        schema: options.schema ?? w?.schema ?? 'refined',
        stagingDir: join(staging, 'warehouse'),
        ...(url ? { url } : {}),
        ...(select ? { select } : {}),
        ...(options.fullRefresh ? { fullRefresh: true } : {}),
      })
    },
    async alerts(signal, follow, onEvent) {
      const s = await getStream()
      const [r, seconds] = await timed(() =>
        watchAlerts(s, store, state, config.alerts, {
          ...(signal ? { signal } : {}),
          ...(follow ? { follow } : {}),
          ...(onEvent ? { onEvent } : {}),
        }),
      )
      return {
        stage: 'alerts',
        records: r.records,
        files: 0,
        bytes: 0,
        errors: r.failed,
        seconds,
        tables: {},
        notes: [`${r.events} alert events`],
        ...(r.failed
          ? {
              outcome: 'failed' as const,
              reason: `${r.failed} alert notification(s) could not be delivered after their retries (last: ${r.lastError}); see weir alerts history`,
            }
          : {}),
      }
    },
    async query(sql) {
      return withHint(async (e) => e.query(sql))
    },
    async exportParquet(sql, file) {
      return withHint(async (e) => {
        const r = await e.query(`COPY (${sql}\n) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION snappy)`)
        return Number(Object.values(r.rows[0] ?? {})[0] ?? 0)
      })
    },
    async queryStream(sql) {
      return withHint(async (e) => e.stream(sql))
    },
    async close() {
      if (simulator) await (await simulator).close()
      if (stream) await (await stream).close()
      if (engine) {
        await (await engine).close()
        await rm(duckdbTemp, { recursive: true, force: true })
      }
      if (staging) await rm(staging, { recursive: true, force: true })
      await store.close()
    },
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

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0)
}
