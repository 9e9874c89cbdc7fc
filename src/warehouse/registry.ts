import { z } from 'zod'
import { adapterFor } from '../core/adapter.js'
import { postgresWarehouse } from './postgres-definition.js'
import type { Warehouse, WarehouseContext } from './warehouse.js'

/**
 * The built-in warehouses. A config names each one it loads by its key (`warehouse.postgres`), so
 * a new kind adds its definition here and a key of the same name.
 */
export const WAREHOUSE_KINDS = [postgresWarehouse] as const

/** Where the refined tables are loaded for analysts and BI tools. */
export const warehouseSchema = z
  .strictObject({ postgres: postgresWarehouse.schema })
  .optional()
  .describe('Where the refined star schema is loaded for analysts and BI tools.')

export type WarehouseConfig = NonNullable<z.output<typeof warehouseSchema>>

/** The warehouse of `kind` with its config. */
export function openWarehouse(
  kind: keyof WarehouseConfig,
  config: WarehouseConfig[keyof WarehouseConfig],
  context: WarehouseContext,
): Warehouse {
  return adapterFor(WAREHOUSE_KINDS, kind, 'warehouse').create(config as never, context)
}
