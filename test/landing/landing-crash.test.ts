import { afterAll, describe } from 'vitest'
import { createLocalStore } from '../../src/storage/local/local-store.js'
import { createS3Store } from '../../src/storage/s3/s3-store.js'
import { s3Env, startS3, tempDir } from '../helpers/services.js'
import { landingCrashTest } from './landing-crash.suite.js'

describe('landing under kill -9', () => {
  landingCrashTest(
    'a local lake',
    async () => {
      const dir = await tempDir('weir-crash-lake-')
      return { uri: dir, store: createLocalStore(dir) }
    },
    20,
  )
})

const s3 = await startS3()
afterAll(() => s3?.stop())
describe.skipIf(!s3)('landing under kill -9 on S3', () => {
  landingCrashTest(
    'S3 (s3rver)',
    async () => {
      const env = s3Env(s3!)
      Object.assign(process.env, env)
      return {
        uri: `s3://${s3!.bucket}/crash`,
        store: await createS3Store({ bucket: s3!.bucket, prefix: 'crash' }),
        env,
      }
    },
    20,
  )
})
