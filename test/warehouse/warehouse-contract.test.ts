import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { WAREHOUSE_KINDS } from '../../src/warehouse/registry.js'
import { warehouseContract } from '../contract/warehouse.contract.js'
import { serviceUp } from '../helpers/services.js'

const URL_ = process.env.WEIR_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test'
const up = await serviceUp('PostgreSQL', URL_, 5432, 'warehouse contract')
const db = new pg.Pool({ connectionString: URL_, max: 2 })
const schemas: string[] = []
afterAll(async () => {
  if (up) for (const s of schemas) await db.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`)
  await db.end()
})

describe('warehouses', () => {
  it('every built-in warehouse runs the contract', () => {
    expect(WAREHOUSE_KINDS.map((d) => d.kind)).toEqual(['postgres'])
  })
})

describe.skipIf(!up)('postgres (loopback)', () => {
  warehouseContract('postgres', async () => ({
    target() {
      const schema = `weir_contract_${process.pid}_${schemas.length}`
      schemas.push(schema)
      return { url: URL_, schema }
    },
    async count(target, table, sumOf) {
      const { rows } = await db.query(
        `select count(*)::int as n, coalesce(sum("${sumOf}"), 0)::int as sum from "${target.schema}"."${table}"`,
      )
      return rows[0] as { n: number; sum: number }
    },
  }))
})
