import { readdir, readFile, stat } from 'node:fs/promises'
import { join, relative, resolve, sep } from 'node:path'
import { LineCounter, parseDocument } from 'yaml'
import { WeirError } from '../core/errors.js'

export type Materialized = 'view' | 'table' | 'incremental' | 'snapshot'
export type IncrementalStrategy = 'merge' | 'append' | 'insert_overwrite'

/** A data test on a model's column (`unique`, `not_null`, ...) or a SQL file returning failing rows. */
export interface TestSpec {
  readonly name: string
  readonly kind: 'unique' | 'not_null' | 'accepted_values' | 'relationships' | 'sql'
  readonly model?: string
  readonly column?: string
  /** accepted_values: the values; relationships: the parent (`ref('dim_user')`) and its field. */
  readonly values?: readonly (string | number | boolean)[]
  readonly to?: string
  readonly field?: string
  /** A custom test's SQL (a SELECT of the failing rows). */
  readonly sql?: string
  readonly severity: 'error' | 'warn'
  /** `file:line` where it is declared. */
  readonly where: string
}

export interface ModelConfig {
  readonly materialized: Materialized
  readonly strategy?: IncrementalStrategy
  readonly uniqueKey?: readonly string[]
  /** A column of the output to Hive-partition its files by (`dt`). */
  readonly partitionBy?: string
  /** The input an incremental model reads only the changed partitions of (default: its first ref or source). */
  readonly incrementalOn?: string
  readonly tags: readonly string[]
  readonly description?: string
  readonly columns: readonly { readonly name: string; readonly description?: string }[]
  /** Snapshots: how a change is seen (`check` compares columns, `timestamp` an updated-at column). */
  readonly snapshotStrategy?: 'check' | 'timestamp'
  readonly checkCols?: readonly string[] | 'all'
  readonly updatedAt?: string
}

/** A `ref('x')` or `source('x', 'tweets')` in a file, with its line. */
export interface Ref {
  readonly kind: 'ref' | 'source'
  /** The model name, or for a source the table name (`x_tweets`). */
  readonly name: string
  readonly line: number
  /** The matched text, replaced when compiling. */
  readonly text: string
}

export interface Model {
  readonly name: string
  /** Path relative to the project directory (`models/marts/dim_user.sql`). */
  readonly path: string
  readonly sql: string
  readonly config: ModelConfig
  readonly refs: readonly Ref[]
  /** Line of the first SQL line after the header (where errors without a position point). */
  readonly firstLine: number
}

export interface Project {
  readonly dir: string
  readonly models: ReadonlyMap<string, Model>
  readonly tests: readonly TestSpec[]
}

export interface ProjectPaths {
  /** The models folder. */
  readonly dir: string
  /** Per model name, config as `config()` takes it; the file's own `config()` wins. */
  readonly config?: Readonly<Record<string, Readonly<Record<string, unknown>>>>
  readonly snapshots: string
  readonly tests: string
}

const REF = /\{\{\s*(ref|source)\(([^)]*)\)\s*\}\}|\b(ref|source)\(([^)]*)\)/g
const CONFIG = /\{\{\s*config\(([\s\S]*?)\)\s*\}\}/

/**
 * Reads a project's models (`models/**\/*.sql`), snapshots (`snapshots/**\/*.sql`), custom tests
 * (`tests/**\/*.sql`) and the YAML files beside the models that describe them and declare their
 * tests. Nothing runs here; every problem found is reported with its `file:line`.
 *
 * @example const project = await loadProject('.', { dir: 'models', snapshots: 'snapshots', tests: 'tests' })
 */
export async function loadProject(dir: string, paths: ProjectPaths): Promise<Project> {
  const models = new Map<string, Model>()
  const tests: TestSpec[] = []
  const yamls: string[] = []
  for (const [folder, kind] of [
    [paths.dir, 'model'],
    [paths.snapshots, 'snapshot'],
  ] as const) {
    for (const file of await filesUnder(resolve(dir, folder))) {
      const rel = relative(dir, file).split(sep).join('/')
      if (/\.ya?ml$/.test(file)) yamls.push(file)
      if (!file.endsWith('.sql')) continue
      const m = parseModel(rel, await readFile(file, 'utf8'), kind, paths.config)
      const other = models.get(m.name)
      if (other)
        throw modelError(`${rel}:1`, `model ${m.name} is also defined in ${other.path}; names must be unique`)
      models.set(m.name, m)
    }
  }
  for (const file of yamls) {
    const rel = relative(dir, file).split(sep).join('/')
    tests.push(...(await applyYaml(rel, await readFile(file, 'utf8'), models)))
  }
  for (const file of await filesUnder(resolve(dir, paths.tests))) {
    if (!file.endsWith('.sql')) continue
    const rel = relative(dir, file).split(sep).join('/')
    const text = await readFile(file, 'utf8')
    const config = readConfig(rel, text)
    tests.push({
      name: baseName(rel),
      kind: 'sql',
      sql: text.replace(CONFIG, (m) => m.replace(/[^\n]/g, ' ')),
      severity: config.severity === 'warn' ? 'warn' : 'error',
      where: `${rel}:1`,
    })
  }
  return { dir, models, tests }
}

export function parseModel(
  path: string,
  text: string,
  kind: 'model' | 'snapshot',
  defaults: ProjectPaths['config'] = {},
): Model {
  const raw: Record<string, unknown> = { ...(defaults[baseName(path)] ?? {}), ...readConfig(path, text) }
  // The config call is blanked, not removed, so the SQL keeps its line numbers for error messages.
  const sql = text.replace(CONFIG, (m) => m.replace(/[^\n]/g, ' '))
  const materialized = (kind === 'snapshot' ? 'snapshot' : (raw.materialized ?? 'view')) as Materialized
  const where = `${path}:${lineOf(text, text.search(CONFIG))}`
  if (!['view', 'table', 'incremental', 'snapshot'].includes(materialized))
    throw modelError(
      where,
      `materialized must be view, table, incremental or snapshot, not "${materialized}"`,
    )
  const uniqueKey = list(raw.unique_key)
  const strategy = (raw.incremental_strategy ??
    raw.strategy_incremental ??
    (uniqueKey ? 'merge' : 'append')) as IncrementalStrategy
  if (materialized === 'incremental' && !['merge', 'append', 'insert_overwrite'].includes(strategy))
    throw modelError(
      where,
      `incremental_strategy must be merge, append or insert_overwrite, not "${strategy}"`,
    )
  if (materialized === 'incremental' && strategy === 'merge' && !uniqueKey)
    throw modelError(where, 'an incremental merge needs unique_key (or incremental_strategy: append)')
  if (strategy === 'insert_overwrite' && !raw.partition_by)
    throw modelError(where, 'incremental_strategy insert_overwrite needs partition_by')
  if (kind === 'snapshot' && !uniqueKey) throw modelError(where, 'a snapshot needs unique_key')
  const refs: Ref[] = []
  for (const m of sql.matchAll(REF)) {
    const fn = (m[1] ?? m[3]) as 'ref' | 'source'
    const args = [...(m[2] ?? m[4] ?? '').matchAll(/['"]([^'"]+)['"]/g)].map((a) => a[1]!)
    const line = lineOf(sql, m.index)
    if (fn === 'ref' && args.length !== 1)
      throw modelError(`${path}:${line}`, `ref() takes one model name, e.g. ref('dim_user'): ${m[0]}`)
    if (fn === 'source' && args.length !== 2)
      throw modelError(
        `${path}:${line}`,
        `source() takes a source and a resource, e.g. source('x', 'tweets'): ${m[0]}`,
      )
    refs.push({ kind: fn, name: fn === 'ref' ? args[0]! : `${args[0]}_${args[1]}`, line, text: m[0] })
  }
  const firstLine = lineOf(sql, sql.search(/\S/))
  const snapshotStrategy = raw.strategy === 'timestamp' ? 'timestamp' : 'check'
  return {
    name: baseName(path),
    path,
    sql,
    refs,
    firstLine,
    config: {
      materialized,
      ...(materialized === 'incremental' ? { strategy } : {}),
      ...(uniqueKey ? { uniqueKey } : {}),
      ...(raw.partition_by ? { partitionBy: String(raw.partition_by) } : {}),
      ...(raw.incremental_on ? { incrementalOn: String(raw.incremental_on) } : {}),
      tags: list(raw.tags) ?? [],
      ...(raw.description ? { description: String(raw.description) } : {}),
      columns: [],
      ...(kind === 'snapshot'
        ? {
            snapshotStrategy,
            checkCols:
              raw.check_cols === undefined || raw.check_cols === 'all'
                ? 'all'
                : (list(raw.check_cols) ?? 'all'),
            ...(raw.updated_at ? { updatedAt: String(raw.updated_at) } : {}),
          }
        : {}),
    },
  }
}

/** `{{ config(materialized='incremental', unique_key=['id'], tags=['x']) }}` → an object. */
function readConfig(path: string, text: string): Record<string, unknown> {
  const m = CONFIG.exec(text)
  if (!m) return {}
  const line = lineOf(text, m.index)
  const body = m[1]!
    .replace(/([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)/g, '"$1":')
    .replace(/'([^']*)'/g, (_, s: string) => JSON.stringify(s))
    .replace(/\bTrue\b/g, 'true')
    .replace(/\bFalse\b/g, 'false')
  try {
    return JSON.parse(`{${body}}`) as Record<string, unknown>
  } catch {
    throw modelError(
      `${path}:${line}`,
      "config() takes key=value pairs of strings, numbers, booleans and lists, e.g. config(materialized='table', unique_key='id')",
    )
  }
}

/** Descriptions, column docs and tests from a `models:` YAML document (dbt's layout). */
async function applyYaml(path: string, text: string, models: Map<string, Model>): Promise<TestSpec[]> {
  const counter = new LineCounter()
  const doc = parseDocument(text, { lineCounter: counter, keepSourceTokens: false })
  if (doc.errors.length) {
    const e = doc.errors[0]!
    throw modelError(`${path}:${e.linePos?.[0].line ?? 1}`, e.message.split('\n')[0]!)
  }
  const lineAt = (node: unknown) =>
    counter.linePos((node as { range?: [number] } | undefined)?.range?.[0] ?? 0).line
  const tests: TestSpec[] = []
  const root = doc.get('models', true) as { items?: unknown[] } | undefined
  for (const item of root?.items ?? []) {
    const entry = (item as { toJSON(): Record<string, unknown> }).toJSON() as {
      name?: string
      description?: string
      columns?: { name: string; description?: string; tests?: unknown[]; data_tests?: unknown[] }[]
      tests?: unknown[]
    }
    const at = `${path}:${lineAt(item)}`
    const model = entry.name ? models.get(entry.name) : undefined
    if (!model)
      throw modelError(at, `${entry.name ?? '(no name)'} is not a model in this project; see its name: key`)
    models.set(model.name, {
      ...model,
      config: {
        ...model.config,
        ...(entry.description ? { description: entry.description } : {}),
        columns: (entry.columns ?? []).map((c) => ({
          name: c.name,
          ...(c.description ? { description: c.description } : {}),
        })),
      },
    })
    const columnNodes = (
      (item as { get(k: string, keep: boolean): unknown }).get('columns', true) as
        | { items?: unknown[] }
        | undefined
    )?.items
    for (const [i, c] of (entry.columns ?? []).entries()) {
      const where = `${path}:${lineAt(columnNodes?.[i])}`
      for (const t of [...(c.tests ?? []), ...(c.data_tests ?? [])])
        tests.push(genericTest(t, model.name, c.name, where))
    }
  }
  return tests
}

function genericTest(t: unknown, model: string, column: string, where: string): TestSpec {
  const [kind, args] =
    typeof t === 'string'
      ? [t, {}]
      : (Object.entries(t as Record<string, Record<string, unknown>>)[0] ?? ['', {}])
  const severity =
    (args as { severity?: string; config?: { severity?: string } }).severity ??
    (args as { config?: { severity?: string } }).config?.severity
  const base = {
    model,
    column,
    severity: severity === 'warn' ? ('warn' as const) : ('error' as const),
    where,
  }
  switch (kind) {
    case 'unique':
    case 'not_null':
      return { name: `${kind}_${model}_${column}`, kind, ...base }
    case 'accepted_values': {
      const values = (args as { values?: (string | number | boolean)[] }).values
      if (!Array.isArray(values)) throw modelError(where, 'accepted_values needs values: [..]')
      return { name: `accepted_values_${model}_${column}`, kind, values, ...base }
    }
    case 'relationships': {
      const a = args as { to?: string; field?: string }
      if (!a.to || !a.field) throw modelError(where, "relationships needs to: ref('model') and field: column")
      return { name: `relationships_${model}_${column}`, kind, to: a.to, field: a.field, ...base }
    }
    default:
      throw modelError(
        where,
        `unknown test "${kind}"; use unique, not_null, accepted_values or relationships, or a SQL file in tests/`,
      )
  }
}

function list(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined
  return (Array.isArray(v) ? v : [v]).map(String)
}

export function lineOf(text: string, index: number): number {
  if (index < 0) return 1
  let n = 1
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) n++
  return n
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1).replace(/\.sql$/, '')
}

export function modelError(where: string, message: string, cause?: unknown): WeirError {
  return new WeirError(`${where}: ${message}`, { code: 'MODEL', stage: 'model', ...(cause ? { cause } : {}) })
}

async function filesUnder(dir: string): Promise<string[]> {
  if (!(await stat(dir).catch(() => undefined))) return []
  const out: string[] = []
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true }))
    if (e.isFile()) out.push(join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
  return out.sort()
}
