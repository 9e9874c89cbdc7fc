import { afterAll, describe } from 'vitest'
import { createLocalStore } from '../../src/storage/local/local-store.js'
import { createS3Store } from '../../src/storage/s3/s3-store.js'
import { lakeStateContract } from '../contract/lake-state.contract.js'
import { s3Env, startS3, tempDir } from '../helpers/services.js'

// The catalog and the state are documents in the lake: the contract runs on every storage adapter.
lakeStateContract('local lake', async () => createLocalStore(await tempDir('weir-state-')))

const s3 = await startS3()
if (s3) Object.assign(process.env, s3Env(s3))
afterAll(async () => s3?.stop())
let n = 0

describe.skipIf(!s3)('s3', () => {
  lakeStateContract('s3 lake (s3rver)', async () =>
    createS3Store({ bucket: s3!.bucket, prefix: `state-contract/${n++}` }),
  )
})
