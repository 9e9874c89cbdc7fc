import type { OnProgress } from '../core/progress.js'
import type { Engine } from '../engine/engine.js'
import type { StateStore } from '../state/state.js'
import type { ObjectStore } from '../storage/storage.js'

/** What a warehouse load did to one table. */
export interface LoadResult {
  readonly table: string
  readonly mode: 'full' | 'incremental' | 'unchanged'
  /** Rows copied into the warehouse (for an incremental load: the rows of the changed files). */
  readonly rows: number
  /** Rows inserted or updated by an incremental load (unchanged rows are not written). */
  readonly changed: number
  readonly added: readonly string[]
  readonly seconds: number
}

/** What loading needs from the lake: its store, the engine that reads Parquet, state, a staging folder. */
export interface WarehouseContext {
  readonly store: ObjectStore
  readonly engine: Engine
  readonly state: StateStore
  readonly stagingDir: string
  /** Told after each table is loaded (tables done of all, rows so far). */
  readonly progress?: OnProgress
}

/**
 * The warehouse port: the lake's refined tables loaded into a database for analysts and BI tools,
 * typed and keyed; a table whose files did not change is left alone, new rows merge by key, and a
 * full refresh swaps the table in whole.
 */
export interface Warehouse {
  load(options?: {
    readonly select?: readonly string[]
    readonly fullRefresh?: boolean
  }): Promise<readonly LoadResult[]>
}
