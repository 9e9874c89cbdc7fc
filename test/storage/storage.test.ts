import { readFile, stat } from 'node:fs/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { localize } from '../../src/engine/localize.js'
import { createLocalStore } from '../../src/storage/local/local-store.js'
import { createS3Store } from '../../src/storage/s3/s3-store.js'
import { parseLakeUri } from '../../src/storage/uri.js'
import { storageContract } from '../contract/storage.contract.js'
import { s3Env, startS3, tempDir } from '../helpers/services.js'

storageContract('local', async () => createLocalStore(await tempDir()))

const s3 = await startS3()
if (s3) Object.assign(process.env, s3Env(s3))
afterAll(async () => s3?.stop())
let n = 0

describe.skipIf(!s3)('s3 adapter', () => {
  storageContract(
    's3 (s3rver)',
    async () => createS3Store({ bucket: s3!.bucket, prefix: `contract/${n++}` }),
    {
      conditional: false,
    },
  )

  it('mirrors objects into a local cache for DuckDB, reusing unchanged files and refreshing changed ones', async () => {
    const store = await createS3Store({ bucket: s3!.bucket, prefix: `cache/${n++}` })
    await store.put('t/a.ndjson', '{"v":1}\n')
    const cacheDir = await tempDir('weir-cache-')
    const list = async () => {
      const out = []
      for await (const o of store.list('t/')) out.push(o)
      return out
    }
    const [path] = await localize(store, await list(), cacheDir)
    expect(await readFile(path!, 'utf8')).toBe('{"v":1}\n')
    const first = await stat(path!)
    await localize(store, await list(), cacheDir)
    expect((await stat(path!)).ino).toBe(first.ino) // not downloaded again
    await new Promise((r) => setTimeout(r, 1100)) // S3 times have one-second resolution
    await store.put('t/a.ndjson', '{"v":22}\n')
    await localize(store, await list(), cacheDir)
    expect(await readFile(path!, 'utf8')).toBe('{"v":22}\n')
  })

  it('says a missing bucket does not exist', async () => {
    const store = await createS3Store({ bucket: 'no-such-bucket', prefix: '' })
    await expect(store.put('x', 'y')).rejects.toThrow(/bucket does not exist/)
  })
})

describe('lake URIs', () => {
  it('parses paths and s3 URIs', () => {
    expect(parseLakeUri('./lake', '/home/u')).toEqual({ kind: 'local', root: '/home/u/lake' })
    expect(parseLakeUri('s3://bucket/a/b/')).toEqual({ kind: 's3', bucket: 'bucket', prefix: 'a/b' })
    expect(parseLakeUri('s3://bucket')).toEqual({ kind: 's3', bucket: 'bucket', prefix: '' })
    expect(() => parseLakeUri('gs://bucket/x')).toThrow(/unsupported scheme/)
    // A password in the URI is never printed.
    expect(() => parseLakeUri('https://me:hunter2-secret@host/lake')).toThrow(
      'lake https://***@host/lake: unsupported scheme "https://"',
    )
    expect(() => parseLakeUri('s3://Bad_Bucket/x')).toThrow(/not a valid S3 bucket/)
  })
})
