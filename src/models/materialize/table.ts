import { compile, type Resolver, sqlHash } from '../compile.js'
import type { Model } from '../project.js'
import { type BuildContext, type Built, describe, inputsOf, onePerKey, sameInputs } from './context.js'
import { register, write } from './publish.js'

/** A whole build: every row computed again, the old files replaced. */
export async function buildTable(
  m: Model,
  ctx: BuildContext,
  resolver: Resolver,
  forced: boolean,
  note?: string,
): Promise<Built> {
  const sql = compile(m, resolver)
  const entry = ctx.catalog.get(`refined.${m.name}`)
  const inputs = inputsOf(m, resolver)
  const hash = sqlHash(sql)
  if (
    !forced &&
    !ctx.opts.fullRefresh &&
    entry?.format === 'parquet' &&
    // A table whose format changed (Iceberg or Hive-style) is built again in its new format.
    (entry.iceberg === true) === (m.config.format === 'iceberg') &&
    entry.model?.sqlHash === hash &&
    sameInputs(entry.model.inputs, inputs)
  )
    return { action: 'unchanged', rows: 0, files: 0 }
  const columns = await describe(ctx.engine, `(${sql}\n)`, m)
  const seq = (entry?.model?.seq ?? 0) + 1
  const written = await write(ctx, m, onePerKey(m, `SELECT * FROM (${sql}\n)`), seq, 'b')
  await register(ctx, m, {
    format: 'parquet',
    columns,
    files: [...written.keys].sort(),
    partitioning: m.config.partitionBy ? [m.config.partitionBy] : [],
    state: { sqlHash: hash, inputs, seq },
  })
  return {
    action: entry ? 'rebuilt' : 'created',
    rows: written.rows,
    files: written.keys.length,
    bytes: written.bytes,
    ...(note ? { note } : {}),
  }
}
