import { loadConfig } from '../../config/load.js'
import { runDemo } from '../../pipeline/demo.js'
import type { GlobalOptions } from '../context.js'
import { renderRows } from '../output.js'
import { summaryLine } from './summary.js'

/** `weir demo`: the whole pipeline on synthetic data into `--lake` (default ./demo-lake). */
export async function demoCommand(
  opts: { tweetsPerHour: number; format: 'table' | 'json' },
  globals: GlobalOptions,
): Promise<void> {
  // Only storage settings come from a project config; the demo brings its own sources.
  const { config } = await loadConfig({
    applyDotEnv: true,
    ...(globals.config ? { file: globals.config } : {}),
    lake: globals.lake ?? './demo-lake',
  })
  const out = (line: string) => opts.format === 'table' && process.stdout.write(`${line}\n`)
  out(`weir demo → ${config.lake}`)
  const report = await runDemo({
    lake: config.lake,
    storage: config.storage,
    tweetsPerHour: opts.tweetsPerHour,
    onStage: (s) => out(`  ${summaryLine(s)}`),
  })
  // A model or data test that failed is said, and fails the command: the demo is not done then.
  const failed = [
    ...report.models.models.filter((m) => m.action === 'failed').map((m) => `model ${m.model}`),
    ...report.models.tests
      .filter((t) => t.status === 'fail' || t.status === 'error')
      .map((t) => `test ${t.name}`),
    ...report.stages.filter((s) => s.outcome === 'failed' || s.outcome === 'skipped').map((s) => s.stage),
  ]
  if (failed.length) {
    process.exitCode = 1
    process.stderr.write(`weir: the demo ran, but ${failed.join(', ')} failed (see above)\n`)
  }
  if (opts.format === 'json') {
    process.stdout.write(`${JSON.stringify(report)}\n`)
    return
  }
  out('\ntables (records produced)')
  for (const [name, n] of Object.entries(report.tables)) out(`  trusted.${name.padEnd(18)} ${n}`)
  // The rows each model wrote (a view writes none), and how it is kept.
  for (const m of report.models.models)
    out(
      `  refined.${m.model.padEnd(18)} ${m.action === 'failed' || m.action === 'skipped' ? `${m.action} (see above)` : m.materialized === 'view' ? 'view' : `${m.rows} (${m.materialized})`}`,
    )
  out(`\n${report.query.sql}\n`)
  out(renderRows(report.query.result, 'table'))
  out(
    `\n${failed.length ? 'finished with failures' : 'done'} in ${report.seconds.toFixed(1)} s. Try: npx weir query "select * from refined.fact_tweet_metrics_daily limit 10" --lake ${config.lake}`,
  )
}
