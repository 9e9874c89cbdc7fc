import { describe, expect, it } from 'vitest'
import { defaultStreamDir } from '../../src/stream/embedded/embedded-definition.js'

describe('defaultStreamDir', () => {
  it('puts the stream inside a local lake and gives each remote lake its own folder', () => {
    expect(defaultStreamDir('./lake', '/proj')).toBe('/proj/lake/_stream')
    expect(defaultStreamDir('s3://bucket/a/b', '/proj')).toBe('/proj/.weir/stream/bucket_a_b')
    expect(defaultStreamDir('s3://other/a/b', '/proj')).not.toBe(defaultStreamDir('s3://bucket/a/b', '/proj'))
  })
})
