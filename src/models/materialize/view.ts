import { sqlIdent } from '../../engine/engine.js'
import { compile, type Resolver, sqlError, sqlHash } from '../compile.js'
import type { Model } from '../project.js'
import { type BuildContext, type Built, describe, inputsOf } from './context.js'
import { register } from './publish.js'

/** A view in the refined schema: nothing written but its SQL and columns in the catalog. */
export async function buildView(m: Model, ctx: BuildContext, resolver: Resolver): Promise<Built> {
  const sql = compile(m, resolver)
  const name = `refined.${sqlIdent(m.name)}`
  try {
    await ctx.engine.run(`CREATE OR REPLACE VIEW ${name} AS ${sql}\n`)
  } catch (err) {
    throw sqlError(m, err)
  }
  const columns = await describe(ctx.engine, name, m)
  await register(ctx, m, {
    format: 'view',
    sql: `${sql}\n`,
    columns,
    files: undefined,
    partitioning: [],
    state: { sqlHash: sqlHash(sql), inputs: inputsOf(m, resolver) },
  })
  return { action: 'created', rows: 0, files: 0 }
}
