import { join } from 'node:path'
import { afterAll, describe } from 'vitest'
import { openServingStore } from '../../src/serve/stores/registry.js'
import { servingContract } from '../contract/serving.contract.js'
import { serviceUp, tempDir } from '../helpers/services.js'

servingContract('embedded (DuckDB file)', async () =>
  openServingStore({ kind: 'embedded', path: join(await tempDir('weir-serve-'), 'serving.duckdb') }),
)

const PG = process.env.WEIR_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test'
const pgUp = await serviceUp('PostgreSQL', PG, 5432, 'PostgreSQL serving tests')
describe.skipIf(!pgUp)('postgres', () => {
  servingContract('PostgreSQL (loopback)', async () =>
    openServingStore({ kind: 'postgres', url: PG, prefix: `weir_test_${process.pid}_` }),
  )
})

// dynalite: DynamoDB's API in memory, started here.
const { default: dynalite } = (await import('dynalite')) as unknown as {
  default: (o: object) => import('node:http').Server
}
const dyn = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
await new Promise<void>((r) => dyn.listen(0, '127.0.0.1', () => r()))
const port = (dyn.address() as import('node:net').AddressInfo).port
Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'dynalite', AWS_SECRET_ACCESS_KEY: 'dynalite' })
afterAll(() => new Promise<void>((r) => dyn.close(() => r())))
servingContract('DynamoDB (dynalite)', async () =>
  openServingStore({
    kind: 'dynamodb',
    prefix: 'weir_',
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${port}`,
  }),
)
