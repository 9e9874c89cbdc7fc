/**
 * `npm run bench`: generates data, runs each named benchmark against a baseline measured in the
 * same run on the same machine, and writes bench/results/latest.json and latest.md.
 *
 *   WEIR_BENCH_RECORDS   tweets to generate for the pipeline benchmarks (default 200000)
 *   WEIR_BENCH_TWEETS    tweets the simulator serves for rest-vs-fetch (default 100000)
 *   WEIR_BENCH_CSV_MB    size of the generated CSV for csv-ingest (default 1024)
 *   WEIR_BENCH_MODEL_TWEETS  trusted tweets the star-schema models are built from (default 1000000)
 *   WEIR_BENCH_ICEBERG_FILES  data files the Iceberg commit-cost table grows to (default 10000)
 *   WEIR_BENCH_ONLY      comma-separated benchmark names to run
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { alertsLatency, alertsRules } from './alerts.js'
import { cliHelp } from './cli-help.js'
import { csvIngest } from './csv-ingest.js'
import { freshnessBench } from './freshness.js'
import { icebergBench } from './iceberg.js'
import { ingestLand } from './ingest-land.js'
import { landingBench } from './landing.js'
import { modelsBench } from './models.js'
import { refineVsCopy } from './refine.js'
import { restVsFetch } from './rest-vs-fetch.js'
import { serveBench } from './serve.js'
import { streamBacklog, streamBench } from './stream.js'
import type { BenchResult } from './types.js'
import { uiBench } from './ui.js'
import { warehouseBench } from './warehouse.js'

const records = Number(process.env.WEIR_BENCH_RECORDS ?? 200_000)
const only = process.env.WEIR_BENCH_ONLY?.split(',')
const benches: Record<string, (dir: string) => Promise<BenchResult>> = {
  'cli-help': () => cliHelp(),
  'ingest-land': (dir) => ingestLand(dir, records),
  'refine-vs-duckdb-copy': (dir) => refineVsCopy(dir, records),
  'alerts-latency': (dir) => alertsLatency(dir),
  'alerts-rules': () => alertsRules(),
  'serve-lookups': (dir) => serveBench(dir),
  'warehouse-load': (dir) => warehouseBench(dir),
  'ui-first-render': (dir) => uiBench(dir),
  'models-star-schema': (dir) => modelsBench(dir, Number(process.env.WEIR_BENCH_MODEL_TWEETS ?? 1_000_000)),
  'rest-vs-fetch': () => restVsFetch(Number(process.env.WEIR_BENCH_TWEETS ?? 100_000)),
  'csv-ingest': (dir) => csvIngest(dir, Number(process.env.WEIR_BENCH_CSV_MB ?? 1024)),
  'stream-embedded': (dir) => streamBench(dir, Number(process.env.WEIR_BENCH_STREAM_RECORDS ?? 500_000)),
  'stream-backlog': (dir) => streamBacklog(dir, Number(process.env.WEIR_BENCH_BACKLOG_MB ?? 1024)),
  freshness: (dir) => freshnessBench(dir),
  iceberg: (dir) => icebergBench(dir, records, Number(process.env.WEIR_BENCH_ICEBERG_FILES ?? 10_000)),
  landing: (dir) =>
    landingBench(
      dir,
      Number(process.env.WEIR_BENCH_LANDING_RECORDS ?? 200_000),
      Number(process.env.WEIR_BENCH_LANDING_MB ?? 1024),
    ),
}

const work = await mkdtemp(join(tmpdir(), 'weir-bench-'))
const results: BenchResult[] = []
try {
  for (const [name, run] of Object.entries(benches)) {
    if (only && !only.includes(name)) continue
    process.stderr.write(`bench ${name} ...\n`)
    const dir = join(work, name)
    await mkdir(dir, { recursive: true })
    const r = await run(dir)
    results.push(r)
    process.stderr.write(`  ${line(r)}\n`)
  }
} finally {
  await rm(work, { recursive: true, force: true })
}

// With WEIR_BENCH_ONLY, the other benchmarks keep their last figures: the report is merged, each row dated.
const previous = only
  ? ((
      JSON.parse(await readFile('bench/results/latest.json', 'utf8').catch(() => '{"results":[]}')) as {
        results: BenchResult[]
      }
    ).results ?? [])
  : []
const dated = results.map((r) => ({ ...r, date: new Date().toISOString() }))
const report = {
  date: new Date().toISOString(),
  machine: {
    node: process.version,
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGB: Math.round(totalmem() / 2 ** 30),
  },
  records,
  results: [...previous.filter((p) => !dated.some((r) => r.name === p.name)), ...dated].sort(
    (a, b) => Object.keys(benches).indexOf(a.name) - Object.keys(benches).indexOf(b.name),
  ),
}
await mkdir('bench/results', { recursive: true })
await writeFile('bench/results/latest.json', `${JSON.stringify(report, null, 2)}\n`)
const md = [
  `# Weir benchmarks (${report.date.slice(0, 10)})`,
  '',
  `Node ${report.machine.node}, ${report.machine.cpus} cores (${report.machine.cpu}), ${report.machine.memoryGB} GB; ${records.toLocaleString('en-US')} generated tweets.`,
  '',
  '| benchmark | weir | baseline | ratio (weir / baseline) | notes |',
  '|---|---|---|---|---|',
  ...report.results.map(
    (r) =>
      `| ${r.name} | ${fmt(r.value)} ${r.unit} | ${fmt(r.baseline.value)} ${r.unit} (${r.baseline.name}) | ${r.ratio.toFixed(2)} | ${r.notes} |`,
  ),
  '',
]
await writeFile('bench/results/latest.md', md.join('\n'))
process.stdout.write(md.join('\n'))

function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(n >= 10 ? 1 : 2)
}

function line(r: BenchResult): string {
  return `${r.name}: ${fmt(r.value)} ${r.unit} vs ${r.baseline.name} ${fmt(r.baseline.value)} ${r.unit} (ratio ${r.ratio.toFixed(2)})`
}
