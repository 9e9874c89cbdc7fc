import { join } from 'node:path'
import { type LoadResult, loadPostgres } from '../../warehouse/postgres.js'
import type { Resources } from '../resources.js'

/** Loads the refined tables into PostgreSQL (config `warehouse.postgres`, overridden by `options`). */
export async function warehouseStage(
  p: Resources,
  options: { url?: string; schema?: string; select?: readonly string[]; fullRefresh?: boolean } = {},
): Promise<readonly LoadResult[]> {
  const e = await p.engine()
  const w = p.config.warehouse?.postgres
  const url = options.url ?? w?.url
  const select = options.select ?? w?.select
  return loadPostgres(p.store, e, p.state, {
    schema: options.schema ?? w?.schema ?? 'refined',
    stagingDir: join(await p.staging(), 'warehouse'),
    ...(url ? { url } : {}),
    ...(select ? { select } : {}),
    ...(options.fullRefresh ? { fullRefresh: true } : {}),
  })
}
