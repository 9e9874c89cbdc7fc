import { afterAll, describe } from 'vitest'
import { createS3Store } from '../../src/storage/s3/s3-store.js'
import { s3Env, startS3 } from '../helpers/services.js'
import { landingSuite } from './landing.suite.js'

const s3 = await startS3()
if (s3) Object.assign(process.env, s3Env(s3))
afterAll(() => s3?.stop())

let n = 0
describe.skipIf(!s3)('landing on S3', () => {
  landingSuite('S3 (s3rver)', async () => createS3Store({ bucket: s3!.bucket, prefix: `landing/${n++}` }))
})
