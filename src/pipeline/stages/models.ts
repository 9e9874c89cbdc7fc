import { listTables } from '../../catalog/catalog.js'
import { compile as compileModel } from '../../models/compile.js'
import { levels as modelLevels, select as selectModels } from '../../models/dag.js'
import { dropRemovedModels } from '../../models/drop.js'
import { loadProject } from '../../models/project.js'
import { resolverFor as modelResolver, runModels } from '../../models/run.js'
import { runTests } from '../../models/tests.js'
import type { ModelsOptions, ModelsReport } from '../pipeline.js'
import type { Resources } from '../resources.js'
import { syncAfterModels } from './glue.js'

/** Builds the selected models into the refined zone, then runs their data tests. */
export async function modelsStage(p: Resources, options: ModelsOptions = {}): Promise<ModelsReport> {
  const e = await p.engine()
  const project = await loadProject(options.projectDir ?? p.dir, withVars(p, options.vars))
  const t0 = performance.now()
  const models =
    options.test === 'only'
      ? []
      : await runModels(p.store, e, project, {
          stagingDir: await p.staging(),
          concurrency: p.config.models.concurrency,
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
  const changed = models.filter((m) => ['created', 'rebuilt', 'incremental'].includes(m.action))
  const glue = await syncAfterModels(
    p,
    changed.map((m) => m.model),
  )
  const tests = options.test === false ? [] : await runTests(p.store, e, project, scope)
  // Only a build of the whole project knows a model is gone (a selection names some).
  const dropped =
    options.test !== 'only' && !options.select?.length ? await dropRemovedModels(p.store, project) : []
  return {
    models,
    tests,
    seconds: (performance.now() - t0) / 1000,
    ...(glue ? { glue } : {}),
    ...(dropped.length ? { dropped } : {}),
  }
}

/** The compiled SQL of the selected models, in build order. */
export async function compileModels(
  p: Resources,
  select?: readonly string[],
  vars?: Readonly<Record<string, unknown>>,
): Promise<{ model: string; path: string; sql: string }[]> {
  const project = await loadProject(p.dir, withVars(p, vars))
  const order = modelLevels(project, selectModels(project, select ?? [])).flat()
  const catalog = new Map((await listTables(p.store)).map((t) => [`${t.zone}.${t.name}`, t]))
  return order.map((name) => {
    const m = project.models.get(name)!
    return { model: name, path: m.path, sql: compileModel(m, modelResolver(catalog)) }
  })
}

function withVars(p: Resources, vars: Readonly<Record<string, unknown>> = {}) {
  return { ...p.config.models, vars: { ...p.config.models.vars, ...vars } }
}
