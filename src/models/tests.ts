import { listTables } from '../catalog/catalog.js'
import { attachLake } from '../catalog/views.js'
import { errorMessage } from '../core/errors.js'
import { type Engine, type JsonValue, sqlIdent, sqlList } from '../engine/engine.js'
import type { ObjectStore } from '../storage/storage.js'
import { compile, sqlError } from './compile.js'
import { type Project, parseModel, type TestSpec } from './project.js'
import { resolverFor } from './run.js'

export interface TestResult {
  readonly name: string
  readonly model?: string
  /** pass; fail (severity error); warn (severity warn); error (the test could not run). */
  readonly status: 'pass' | 'fail' | 'warn' | 'error'
  readonly failures: number
  /** Up to five failing rows. */
  readonly sample: readonly Record<string, JsonValue>[]
  /** `file:line` of the declaration. */
  readonly where: string
  readonly message?: string
}

/**
 * Runs the project's data tests (of the given models, or all): each is a query for failing rows —
 * `unique`, `not_null`, `accepted_values`, `relationships`, or a SQL file in `tests/` — and
 * reports their count and a sample.
 *
 * @example const results = await runTests(store, engine, project, new Set(['dim_user']))
 */
export async function runTests(
  store: ObjectStore,
  engine: Engine,
  project: Project,
  models?: ReadonlySet<string>,
): Promise<TestResult[]> {
  await attachLake(engine, store)
  const catalog = new Map((await listTables(store)).map((t) => [`${t.zone}.${t.name}`, t]))
  const out: TestResult[] = []
  for (const t of project.tests) {
    if (models && t.model && !models.has(t.model)) continue
    const base = { name: t.name, ...(t.model ? { model: t.model } : {}), where: t.where }
    try {
      const sql = failingRows(t, (text) => {
        // A custom test or a relationships target may ref models and sources like a model does.
        const m = parseModel(t.where.replace(/:\d+$/, ''), text, 'model', {}, project.templating)
        return compile(m, resolverFor(catalog))
      })
      const n = Number((await engine.query(`SELECT count(*) AS n FROM (${sql}\n)`)).rows[0]?.n ?? 0)
      const sample = n ? (await engine.query(`SELECT * FROM (${sql}\n) LIMIT 5`)).rows : []
      out.push({
        ...base,
        status: n === 0 ? 'pass' : t.severity === 'warn' ? 'warn' : 'fail',
        failures: n,
        sample,
      })
    } catch (err) {
      const message =
        t.kind === 'sql'
          ? sqlError({ path: t.where.replace(/:\d+$/, ''), firstLine: 1, name: t.name }, err).message
          : `${t.where}: ${errorMessage(err)}`
      out.push({ ...base, status: 'error', failures: 0, sample: [], message })
    }
  }
  return out
}

function failingRows(t: TestSpec, compileSql: (sql: string) => string): string {
  const table = t.model ? `refined.${sqlIdent(t.model)}` : ''
  const col = t.column ? sqlIdent(t.column) : ''
  switch (t.kind) {
    case 'unique':
      return `SELECT ${col}, count(*) AS occurrences FROM ${table} WHERE ${col} IS NOT NULL GROUP BY ${col} HAVING count(*) > 1`
    case 'not_null':
      return `SELECT * FROM ${table} WHERE ${col} IS NULL`
    case 'accepted_values':
      return `SELECT ${col}, count(*) AS occurrences FROM ${table} WHERE ${col} IS NOT NULL AND CAST(${col} AS VARCHAR) NOT IN ${sqlList(
        (t.values ?? []).map(String),
      )
        .replace(/^\[/, '(')
        .replace(/\]$/, ')')} GROUP BY ${col}`
    case 'relationships': {
      const parent = compileSql(/^\w+$/.test(t.to ?? '') ? `ref('${t.to}')` : (t.to ?? ''))
      return `SELECT c.* FROM ${table} c WHERE c.${col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${parent} p WHERE p.${sqlIdent(t.field!)} = c.${col})`
    }
    case 'sql':
      return compileSql(t.sql ?? '')
  }
}
