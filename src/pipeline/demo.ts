import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { configSchema, type WeirConfig } from '../config/schema.js'
import { WeirError } from '../core/errors.js'
import type { QueryResult } from '../engine/engine.js'
import { createRunHistory } from '../scheduler/history.js'
import { startSimulator } from '../sources/simulator/simulator.js'
import { openStore } from '../storage/registry.js'
import { putJson } from '../storage/storage.js'
import { parseLakeUri } from '../storage/uri.js'
import { type ModelsReport, openPipeline, type StageSummary } from './pipeline.js'

/** The package's examples: models of the three seed scenarios, and the movies listing they use. */
const EXAMPLES = new URL('../../examples/', import.meta.url)

export interface DemoOptions {
  readonly lake: string
  readonly storage?: WeirConfig['storage']
  /** Directory relative lake paths resolve against. */
  readonly cwd?: string
  /** The simulator's tweet rate; it serves three days of history. */
  readonly tweetsPerHour?: number
  /** Where the embedded stream goes; inside a local lake by default, a temp dir for a remote one. */
  readonly streamDir?: string
  /** Called as each stage finishes, for progress output. */
  readonly onStage?: (s: StageSummary) => void
}

export interface DemoReport {
  readonly lake: string
  readonly stages: readonly StageSummary[]
  /** Records per trusted table, as refine wrote them. */
  readonly tables: Readonly<Record<string, number>>
  /** The example models built, and their data tests. */
  readonly models: ModelsReport
  readonly query: { readonly sql: string; readonly result: QueryResult }
  readonly seconds: number
}

const MARKER = '_demo.json'

export const DEMO_QUERY = `select u.username, count(*) as tweets, sum(t.public_metrics_like_count) as likes,
  count(distinct t.dt) as days
from trusted.x_tweets t join trusted.x_users u on u.id = t.author_id
group by u.username order by tweets desc, u.username limit 5`

/**
 * The whole pipeline on synthetic data, once: a fake X search API and a fake weather API feed the
 * embedded stream; landing writes raw NDJSON by event date; refine writes trusted Parquet by `dt=`;
 * then an example query joins two trusted tables. A lake the demo made before is reset first; any
 * other non-empty lake is refused, so the demo never touches real data.
 */
export async function runDemo(options: DemoOptions): Promise<DemoReport> {
  const t0 = performance.now()
  // The demo pulls real presets from the API simulator, so it exercises the same code as a project
  // pulling X and Tomorrow.io, with no credentials and no network.
  const cwd = options.cwd ?? process.cwd()
  await resetDemoLake(configSchema.parse({ lake: options.lake, storage: options.storage ?? {} }), cwd)
  const sim = await startSimulator({ tweetsPerHour: options.tweetsPerHour ?? 60, historyDays: 3 })
  try {
    return await runOnSimulator(options, sim.url, cwd, t0)
  } finally {
    await sim.close()
  }
}

async function runOnSimulator(
  options: DemoOptions,
  url: string,
  cwd: string,
  t0: number,
): Promise<DemoReport> {
  const config = demoConfig(options, url)
  // A local lake keeps its stream inside (reset with it); a remote one gets a stream for this run only.
  const scratch =
    !options.streamDir && parseLakeUri(config.lake, cwd).kind !== 'local'
      ? await mkdtemp(join(tmpdir(), 'weir-demo-stream-'))
      : undefined
  const streamDir = options.streamDir ?? scratch
  const p = await openPipeline({ config, file: undefined, dir: cwd }, streamDir ? { streamDir } : {})
  try {
    await putJson(p.store, MARKER, { createdBy: 'weir demo', at: new Date().toISOString() })
    const stages: StageSummary[] = []
    // Each stage is recorded in the run history, as `weir run` records its jobs (the dashboard shows it).
    const history = createRunHistory(p.state)
    const step = async (run: () => Promise<StageSummary>) => {
      const start = new Date()
      const s = await run()
      stages.push(s)
      options.onStage?.(s)
      await history.record({
        id: randomUUID(),
        job: s.stage === 'model' ? 'models' : s.stage,
        start: start.toISOString(),
        end: new Date().toISOString(),
        outcome: 'succeeded',
        attempts: 1,
        records: s.records,
        files: s.files,
        trigger: 'demo',
      })
      return s
    }
    await step(() => p.ingest())
    await step(() => p.land())
    const refined = await step(() => p.refine())
    // The example models of the three seed scenarios, with their data tests.
    const models = await p.models({ projectDir: fileURLToPath(EXAMPLES) })
    await step(async () => modelsSummary(models))
    const q0 = performance.now()
    const result = await p.query(DEMO_QUERY)
    const seconds = (performance.now() - q0) / 1000
    await step(async () => ({
      stage: 'query',
      records: result.rows.length,
      files: 0,
      bytes: 0,
      errors: 0,
      seconds,
      tables: {},
    }))
    return {
      lake: p.store.uri,
      stages,
      tables: refined.tables,
      models,
      query: { sql: DEMO_QUERY, result },
      seconds: (performance.now() - t0) / 1000,
    }
  } finally {
    await p.close()
    if (scratch) await rm(scratch, { recursive: true, force: true })
  }
}

async function resetDemoLake(config: WeirConfig, cwd: string): Promise<void> {
  const store = await openStore(config.lake, config.storage, cwd)
  try {
    const first = await store.list('')[Symbol.asyncIterator]().next()
    if (first.done) return
    if (!(await store.head(MARKER))) {
      throw new WeirError(
        `lake ${store.uri} is not empty and was not made by \`weir demo\`; give --lake an empty or new location`,
        { code: 'LAKE_NOT_EMPTY', stage: 'cli' },
      )
    }
    const keys: string[] = []
    for await (const o of store.list('')) keys.push(o.key)
    for (let i = 0; i < keys.length; i += 32)
      await Promise.all(keys.slice(i, i + 32).map((k) => store.delete(k)))
  } finally {
    await store.close()
  }
}

/** The demo's project: the three seed scenarios on the simulator at `url`. */
function demoConfig(options: DemoOptions, url: string): WeirConfig {
  return configSchema.parse({
    lake: options.lake,
    storage: options.storage ?? {},
    sources: {
      x: {
        preset: 'x.recent_search',
        baseUrl: url,
        auth: { bearer: 'demo-token' },
        params: { query: ['#dataengineering', '#duckdb -is:retweet'] },
      },
      // Seed 003: X's filtered stream, read for two seconds (the served-tweets models read it).
      x_stream: {
        kind: 'http-stream',
        preset: 'x.filtered_stream',
        baseUrl: url,
        auth: { bearer: 'demo-token' },
        rules: [{ value: '#dataengineering OR #duckdb', tag: 'demo' }],
        runFor: '2s',
      },
      weather: {
        preset: 'tomorrow.realtime',
        baseUrl: url,
        auth: { apiKey: 'demo-key' },
        params: { location: ['toronto', 'sao paulo', 'new york', 'lisbon', 'phoenix'] },
      },
      // The movies seed: an IMDB listing as CSV (a row per credited artist), enriched from TMDB.
      movies: {
        kind: 'file',
        path: fileURLToPath(new URL('data/movies.csv', EXAMPLES)),
        resource: 'titles',
        csv: { delimiter: '|', null: '\\N' },
        raw: 'as-is',
      },
      tmdb: {
        kind: 'rest',
        baseUrl: url,
        auth: { apiKey: 'demo-key' },
        concurrency: 4,
        endpoints: {
          find: { preset: 'tmdb.find_by_imdb', parent: { source: 'movies', fields: { imdb_id: 'id' } } },
          details: {
            preset: 'tmdb.movie_details',
            parent: { endpoint: 'find', resource: 'find_movies', fields: { movie_id: 'id' } },
          },
          reviews: {
            preset: 'tmdb.movie_reviews',
            parent: { endpoint: 'details', resource: 'movies', fields: { movie_id: 'id' }, include: ['id'] },
          },
        },
      },
    },
    landing: { maxRecords: 100, maxBytes: '10MB', maxAge: '60s' },
    tables: {
      'x.tweets': { eventTime: 'created_at', primaryKey: 'id' },
      'x.users': { primaryKey: 'id' },
      'x_stream.tweets': { eventTime: 'created_at', primaryKey: 'id' },
      'x_stream.users': { primaryKey: 'id' },
      'weather.realtime': { eventTime: 'data.time' },
      'tmdb.movies': { primaryKey: 'id' },
      'tmdb.reviews': { primaryKey: 'id' },
    },
  })
}

/** The models' build as a stage of the demo's report. */
function modelsSummary(models: ModelsReport): StageSummary {
  return {
    stage: 'model',
    records: models.models.reduce((n, m) => n + m.rows, 0),
    files: models.models.reduce((n, m) => n + m.files, 0),
    bytes: models.models.reduce((n, m) => n + (m.bytes ?? 0), 0),
    errors: models.models.filter((m) => m.action === 'failed').length,
    seconds: models.seconds,
    tables: Object.fromEntries(models.models.map((m) => [m.model, m.rows])),
    notes: [
      `${models.tests.filter((t) => t.status === 'pass').length} of ${models.tests.length} data tests passed`,
      ...models.models.flatMap((m) => (m.error ? [m.error] : [])),
      ...models.tests.flatMap((t) =>
        t.status === 'pass' ? [] : [`${t.name}: ${t.status}, ${t.failures} failing rows (${t.where})`],
      ),
    ],
  }
}
