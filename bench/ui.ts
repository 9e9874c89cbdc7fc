import { execFile } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { configSchema } from '../src/config/schema.js'
import { createEngine, sqlString } from '../src/engine/engine.js'
import { openPipeline } from '../src/pipeline/pipeline.js'
import { startServing } from '../src/pipeline/serve.js'
import { registerParquet } from './lake.js'
import { type BenchResult, median, seconds } from './types.js'

const QUERIES = [
  'select dt, count(*) as n from refined.events group by dt order by dt',
  'select city, avg(value) as avg_value from refined.events group by city order by city',
  'select hour("at") as h, sum(value) as total from refined.events group by 1 order by 1',
  'select city, max(value) as peak from refined.events group by city order by peak desc limit 20',
]

/**
 * Time to first render in Chromium (playwright-core): the overview, and a dashboard of 4 charts
 * over a 1M-row refined table; against the same 4 queries run straight in DuckDB.
 */
export async function uiBench(dir: string, count = 1_000_000): Promise<BenchResult> {
  const lake = join(dir, 'lake')
  const out = join(lake, 'refined/events')
  await mkdir(out, { recursive: true })
  const engine = await createEngine()
  const file = join(out, 'part-0.parquet')
  await engine.run(
    `COPY (SELECT CAST(TIMESTAMP '2026-11-01' + to_seconds(i * 2) AS DATE) AS dt, TIMESTAMP '2026-11-01' + to_seconds(i * 2) AS "at",
        'city-' || (i % 40) AS city, (i * 7919) % 1000 / 10.0 AS value FROM range(${count}) t(i))
     TO ${sqlString(file)} (FORMAT parquet, COMPRESSION snappy)`,
  )
  await registerParquet(engine, lake, [file], {
    zone: 'refined',
    name: 'events',
    location: 'refined/events/',
    format: 'parquet',
    partitioning: [],
  })
  const project = join(dir, 'project')
  await mkdir(join(project, 'dashboards'), { recursive: true })
  await writeFile(
    join(project, 'dashboards/bench.md'),
    QUERIES.map(
      (q, i) =>
        `\`\`\`sql q${i}\n${q}\n\`\`\`\n\n\`\`\`chart\n{ "type": "${i % 2 ? 'bar' : 'line'}", "data": "q${i}" }\n\`\`\`\n`,
    ).join('\n'),
  )
  // Baseline: the dashboard's queries alone, in DuckDB, over the same file.
  await engine.run(`CREATE SCHEMA refined; CREATE VIEW refined.events AS SELECT * FROM '${file}'`)
  const direct: number[] = []
  for (let i = 0; i < 3; i++)
    direct.push(
      await seconds(async () => {
        for (const q of QUERIES) await engine.query(q)
      }),
    )
  await engine.close()

  const p = await openPipeline({ config: configSchema.parse({ lake }), file: undefined, dir: project })
  const s = await startServing(p, { port: 0, host: '127.0.0.1', sink: false })
  // Not execFileSync: the server runs in this process and must keep answering.
  const { stdout } = await promisify(execFile)(process.execPath, ['bench/ui-child.mjs', s.url], {
    encoding: 'utf8',
  })
  const { overview, dashboard } = JSON.parse(stdout) as {
    overview: number[]
    dashboard: number[]
  }
  await s.close()
  await p.close()
  const dash = median(dashboard)
  const base = median(direct)
  return {
    name: 'ui-first-render',
    unit: 's',
    value: dash,
    baseline: { name: "the dashboard's 4 queries run straight in DuckDB", value: base },
    ratio: dash / base,
    notes: `Chromium, median of 3 cold page loads: overview ${median(overview).toFixed(2)} s; dashboard of 4 charts over ${count.toLocaleString('en-US')} rows ${dash.toFixed(2)} s (queries in a fresh sandbox, JSON, ECharts SVG) against ${base.toFixed(2)} s for its queries alone in DuckDB`,
    details: { overview, dashboard, direct },
  }
}
