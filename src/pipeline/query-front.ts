import type { AsOf } from '../catalog/iceberg/live.js'
import { attachLake } from '../catalog/views.js'
import { WeirError } from '../core/errors.js'
import type { Engine } from '../engine/engine.js'
import type { Resources } from './resources.js'

/**
 * Runs against the lake's views, and says so when a query fails on a lake with no tables. The views
 * are made again for each query: refine swaps a table's live files, and a pipeline that lands and
 * refines while it serves queries must not read a list of files that are gone.
 */
export function queryFront(p: Resources) {
  return async <T>(run: (e: Engine) => Promise<T>, asOf?: AsOf): Promise<T> => {
    const e = await p.engine()
    const attached = (await attachLake(e, p.store, asOf)).length
    try {
      return await run(e)
    } catch (err) {
      if (attached === 0 && err instanceof WeirError && /Catalog Error/.test(err.message)) {
        throw new WeirError(
          `${err.message}; the lake ${p.store.uri} has no tables yet: run \`weir demo --lake ${p.config.lake}\`, or ingest, land and refine first`,
          { code: 'LAKE_EMPTY', stage: 'query', cause: err },
        )
      }
      throw err
    }
  }
}
