import { readdir, readFile, stat } from 'node:fs/promises'
import { join, relative, resolve, sep } from 'node:path'
import type { Templating } from './jinja.js'
import { applyYaml } from './model-yaml.js'
import { baseName, CONFIG, modelError, parseModel, readConfig } from './parse-model.js'

export { lineOf, modelError, parseModel } from './parse-model.js'

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
  /** A table's files as an Iceberg table (the default) or Hive-style Parquet only. */
  readonly format: 'iceberg' | 'parquet'
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
  /** The project's macros and variables, which its Jinja sees. */
  readonly templating?: Templating
}

export interface Project {
  readonly dir: string
  readonly models: ReadonlyMap<string, Model>
  readonly tests: readonly TestSpec[]
  readonly templating?: Templating
}

export interface ProjectPaths {
  /** The models folder. */
  readonly dir: string
  /** Per model name, config as `config()` takes it; the file's own `config()` wins. */
  readonly config?: Readonly<Record<string, Readonly<Record<string, unknown>>>>
  readonly snapshots: string
  readonly tests: string
  /** The macros folder (`macros/**\/*.sql`), every macro of which every model may call. */
  readonly macros?: string
  /** `var()`'s values. */
  readonly vars?: Readonly<Record<string, unknown>>
}

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
  const macros = new Map<string, string>()
  for (const file of await filesUnder(resolve(dir, paths.macros ?? 'macros')))
    if (file.endsWith('.sql'))
      macros.set(relative(dir, file).split(sep).join('/'), await readFile(file, 'utf8'))
  const templating: Templating = { macros, vars: paths.vars ?? {} }
  for (const [folder, kind] of [
    [paths.dir, 'model'],
    [paths.snapshots, 'snapshot'],
  ] as const) {
    for (const file of await filesUnder(resolve(dir, folder))) {
      const rel = relative(dir, file).split(sep).join('/')
      if (/\.ya?ml$/.test(file)) yamls.push(file)
      if (!file.endsWith('.sql')) continue
      const m = parseModel(rel, await readFile(file, 'utf8'), kind, paths.config, templating)
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
  return { dir, models, tests, templating }
}

async function filesUnder(dir: string): Promise<string[]> {
  if (!(await stat(dir).catch(() => undefined))) return []
  const out: string[] = []
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true }))
    if (e.isFile()) out.push(join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
  return out.sort()
}
