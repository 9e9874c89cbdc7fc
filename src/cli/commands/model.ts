import type { ModelsReport } from '../../pipeline/pipeline.js'
import { type GlobalOptions, withPipeline } from '../context.js'
import { recorded } from './record.js'

export interface ModelCommandOptions {
  readonly select?: string[]
  readonly fullRefresh?: boolean
  readonly compile?: boolean
  /** --test: run the tests only; --no-test: build only. */
  readonly test?: boolean
  readonly testOnly?: boolean
  /** `--vars`: YAML or JSON of var() values. */
  readonly vars?: string
}

/**
 * `weir model [--select ...] [--full-refresh] [--compile] [--test | --no-test]`: builds the models
 * and runs their tests; exits 1 when a model fails or a test of severity error finds rows.
 */
export async function modelCommand(opts: ModelCommandOptions, globals: GlobalOptions): Promise<void> {
  const vars = await parseVars(opts.vars)
  await withPipeline(globals, async (p) => {
    if (opts.compile) {
      for (const m of await p.compileModels(opts.select ?? [], vars)) {
        process.stdout.write(`-- ${m.model} (${m.path})\n${m.sql.replace(/^(\s*\n)+/, '').trimEnd()}\n;\n\n`)
      }
      return
    }
    const failing = (r: ModelsReport) => [
      ...r.models.filter((m) => m.action === 'failed').map((m) => m.error ?? m.model),
      ...(r.glue ? [r.glue] : []),
      ...r.tests
        .filter((t) => t.status === 'fail' || t.status === 'error')
        .map((t) => `test ${t.name} ${t.status}: ${t.failures} failing rows (${t.where})`),
    ]
    const report = await recorded(
      p,
      'models',
      'weir model',
      () =>
        p.models({
          ...(opts.select ? { select: opts.select } : {}),
          ...(opts.fullRefresh ? { fullRefresh: true } : {}),
          test: opts.testOnly ? 'only' : opts.test !== false,
          vars,
        }),
      (r) => ({
        records: r.models.reduce((n, m) => n + m.rows, 0),
        files: r.models.reduce((n, m) => n + m.files, 0),
        ...(failing(r).length ? { outcome: 'failed' as const, note: failing(r).join('; ') } : {}),
      }),
    )
    print(report)
    if (failing(report).length) process.exitCode = 1
  })
}

/** `--vars '{"a": 1}'` or `--vars 'a: 1'`, as dbt takes them: a mapping, else a one-line error. */
async function parseVars(text: string | undefined): Promise<Record<string, unknown>> {
  if (text === undefined) return {}
  const { parse } = await import('yaml')
  const { WeirError } = await import('../../core/errors.js')
  let v: unknown
  try {
    v = parse(text)
  } catch (err) {
    throw new WeirError(`--vars is not YAML or JSON: ${(err as Error).message.split('\n')[0]}`, {
      code: 'MODEL',
      stage: 'model',
    })
  }
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new WeirError(`--vars takes a mapping of names to values, e.g. '{"start_date": "2026-11-01"}'`, {
      code: 'MODEL',
      stage: 'model',
    })
  return v as Record<string, unknown>
}

function print(r: ModelsReport): void {
  const out: string[] = []
  const n = (x: number) => x.toLocaleString('en-US')
  const width = Math.max(0, ...r.models.map((m) => m.model.length), ...r.tests.map((t) => t.name.length))
  for (const m of r.models) {
    const parts = [
      'model',
      m.model.padEnd(width),
      m.materialized.padEnd(11),
      m.action.padEnd(11),
      `${n(m.rows).padStart(9)} rows`,
      `${n(m.files).padStart(3)} files`,
      `${m.seconds.toFixed(2).padStart(6)} s`,
    ]
    out.push(parts.join('  '))
    if (m.note) out.push(`       note: ${m.note}`)
    if (m.error) process.stderr.write(`weir: ${m.error.replace(/\s*\n\s*/g, ' ')}\n`)
  }
  for (const t of r.tests) {
    const status = { pass: 'pass', fail: 'FAIL', warn: 'WARN', error: 'ERROR' }[t.status]
    out.push(
      [
        'test ',
        t.name.padEnd(width),
        status.padEnd(5),
        t.failures ? `${n(t.failures)} failing rows` : '',
        t.status === 'pass' ? '' : t.where,
      ]
        .filter(Boolean)
        .join('  '),
    )
    for (const row of t.sample) out.push(`       ${JSON.stringify(row)}`)
    if (t.message) process.stderr.write(`weir: ${t.message.replace(/\s*\n\s*/g, ' ')}\n`)
  }
  for (const d of r.dropped ?? [])
    out.push(`model ${d.padEnd(width)}  dropped: its SQL file is gone from the project`)
  const failedTests = r.tests.filter((t) => t.status === 'fail' || t.status === 'error').length
  out.push(
    `${r.models.length} models (${r.models.filter((m) => m.action === 'failed').length} failed), ${r.tests.length} tests (${failedTests} failed, ${r.tests.filter((t) => t.status === 'warn').length} warnings) in ${r.seconds.toFixed(2)} s`,
  )
  process.stdout.write(`${out.join('\n')}\n`)
}
