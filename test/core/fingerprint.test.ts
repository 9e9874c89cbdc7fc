import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { fingerprinter } from '../../src/core/records.js'

describe('fingerprinter', () => {
  it('is the hash of the sorted shape, whatever order the keys come in', () => {
    const fp = fingerprinter()
    const a = fp({ id: '1', n: 2, tags: [{ t: 'x', k: true }], u: null })
    expect(fp({ u: null, tags: [{ k: false, t: 'y' }], n: 3, id: '2' })).toBe(a)
    // The same hash a fresh fingerprinter gives, and the one earlier versions stored.
    const sorted = '{id:s,n:d,tags:[{k:b,t:s,}],u:n,}'
    expect(a).toBe(createHash('sha256').update(sorted).digest('hex').slice(0, 16))
    expect(fingerprinter()({ u: null, n: 1, id: 'z', tags: [{ t: 'q', k: true }] })).toBe(a)
  })

  it('tells structures apart: a type, a key, an element shape', () => {
    const fp = fingerprinter()
    const base = fp({ id: '1', n: 2 })
    expect(fp({ id: 1, n: 2 })).not.toBe(base)
    expect(fp({ id: '1', n: 2, x: 'more' })).not.toBe(base)
    expect(fp({ id: '1', n: null })).not.toBe(base)
    expect(fp({ a: [{ x: 1 }, { y: 1 }] })).not.toBe(fp({ a: [{ x: 1 }] }))
    // Elements of one structure in two key orders are one element shape.
    expect(
      fp({
        a: [
          { x: 1, y: 's' },
          { y: 't', x: 2 },
        ],
      }),
    ).toBe(fp({ a: [{ x: 1, y: 's' }] }))
  })
})
