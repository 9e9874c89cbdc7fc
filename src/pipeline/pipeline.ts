import type { AlertEvent } from '../alerts/watch.js'
import type { AsOf } from '../catalog/iceberg/live.js'
import type { LoadedConfig } from '../config/load.js'
import type { OnProgress } from '../core/progress.js'
import { type QueryResult, type QueryStream, sqlString } from '../engine/engine.js'
import type { ModelResult } from '../models/run.js'
import type { TestResult } from '../models/tests.js'
import type { RefineResult } from '../refine/refine.js'
import type { LoadResult } from '../warehouse/warehouse.js'
import { queryFront } from './query-front.js'
import { openResources, type Resources } from './resources.js'
import { alertsStage } from './stages/alerts.js'
import { ingestStage } from './stages/ingest.js'
import { landStage } from './stages/land.js'
import { compileModels, modelsStage } from './stages/models.js'
import { refineStage } from './stages/refine.js'
import { warehouseStage } from './stages/warehouse.js'

export { createSources } from './stages/ingest.js'

export interface QueryOptions {
  /** Time travel: Iceberg tables as they were at a time or snapshot (others as they are). */
  readonly asOf?: AsOf | undefined
}

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
export interface Pipeline
  extends Pick<
    Resources,
    'config' | 'dir' | 'store' | 'state' | 'leases' | 'stream' | 'engine' | 'progress'
  > {
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
  compileModels(
    select?: readonly string[],
    vars?: Readonly<Record<string, unknown>>,
  ): Promise<{ model: string; path: string; sql: string }[]>
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
  /**
   * Runs SQL over every catalog table (`select * from trusted.x_tweets`); with `asOf`, Iceberg
   * tables as they were at that time or snapshot.
   */
  query(sql: string, options?: QueryOptions): Promise<QueryResult>
  /** Writes a query's result as one snappy Parquet file; returns its row count. */
  exportParquet(sql: string, file: string, options?: QueryOptions): Promise<number>
  /** The same, yielding rows chunk by chunk for large results. */
  queryStream(sql: string, options?: QueryOptions): Promise<QueryStream>
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
  /** `var()` values over the config's `models.vars` (`--vars`). */
  readonly vars?: Readonly<Record<string, unknown>>
}

export interface ModelsReport {
  readonly models: readonly ModelResult[]
  readonly tests: readonly TestResult[]
  /** Refined tables dropped because their model left the project. */
  readonly dropped?: readonly string[]
  readonly seconds: number
  /** With `catalog.glue`: why the built tables could not be registered, and what to run. */
  readonly glue?: string
}

export interface IngestRunOptions {
  /** Parameters over the sources' own (a backfill window's start_time and end_time). */
  readonly params?: Readonly<Record<string, string>>
  /** Where the cursor is kept, instead of the source's own (a backfill window keeps its own). */
  readonly stateName?: string
  /** Wait before publishing while landing's lag is over `run.maxLag` (not when landing runs after, as in --once). */
  readonly backpressure?: boolean
  /** Long-lived sources (streams) read until `signal` aborts, instead of for their one-shot window. */
  readonly follow?: boolean
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
  /** Called after each round of files is committed, with what the round wrote. */
  readonly onLanded?: (round: { readonly records: number; readonly files: number }) => void
}

export interface OpenOptions {
  /** Where the embedded stream lives; see `defaultStreamDir`. */
  readonly streamDir?: string
  /** Told things a user must know that are not errors (sources served by the simulator). */
  readonly onNote?: (line: string) => void
  /** Told how far long stages are (files read, records published and landed, batches refined). */
  readonly onProgress?: OnProgress
}

/** Opens a project's pipeline: its shared resources, each stage's wiring, and the query front. */
export async function openPipeline(loaded: LoadedConfig, options: OpenOptions = {}): Promise<Pipeline> {
  const p = await openResources(loaded, options)
  const withHint = queryFront(p)
  return {
    config: p.config,
    dir: p.dir,
    store: p.store,
    state: p.state,
    leases: p.leases,
    progress: p.progress,
    stream: p.stream,
    engine: p.engine,
    ingest: (names, signal, opts) => ingestStage(p, names, signal, opts),
    land: (signal, follow, opts) => landStage(p, signal, follow, opts),
    refine: (only, opts) => refineStage(p, only, opts),
    models: (opts) => modelsStage(p, opts),
    compileModels: (select, vars) => compileModels(p, select, vars),
    loadPostgres: (opts) => warehouseStage(p, opts),
    alerts: (signal, follow, onEvent) => alertsStage(p, signal, follow, onEvent),
    query: (sql, opts) => withHint((e) => e.query(sql), opts?.asOf),
    exportParquet: (sql, file, opts) =>
      withHint(async (e) => {
        const r = await e.query(`COPY (${sql}\n) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION snappy)`)
        return Number(Object.values(r.rows[0] ?? {})[0] ?? 0)
      }, opts?.asOf),
    queryStream: (sql, opts) => withHint((e) => e.stream(sql), opts?.asOf),
    close: p.close,
  }
}
