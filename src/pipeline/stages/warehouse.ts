import { join } from 'node:path'
import { openWarehouse } from '../../warehouse/registry.js'
import type { LoadResult } from '../../warehouse/warehouse.js'
import type { Resources } from '../resources.js'

/** Loads the refined tables into PostgreSQL (config `warehouse.postgres`, overridden by `options`). */
export async function warehouseStage(
  p: Resources,
  options: { url?: string; schema?: string; select?: readonly string[]; fullRefresh?: boolean } = {},
): Promise<readonly LoadResult[]> {
  const w = p.config.warehouse?.postgres
  const url = options.url ?? w?.url
  const select = options.select ?? w?.select
  const warehouse = openWarehouse(
    'postgres',
    {
      schema: options.schema ?? w?.schema ?? 'refined',
      ...(url ? { url } : {}),
      ...(select ? { select: [...select] } : {}),
    },
    {
      store: p.store,
      engine: await p.engine(),
      state: p.state,
      stagingDir: join(await p.staging(), 'warehouse'),
      progress: p.progress,
    },
  )
  return warehouse.load(options.fullRefresh ? { fullRefresh: true } : {})
}
