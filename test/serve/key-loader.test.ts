import { describe, expect, it } from 'vitest'
import { keyLoader } from '../../src/serve/stores/key-loader.js'

describe('lookups by key', () => {
  it('go at once alone, and together while one is in flight; each caller gets its own key; a failure reaches every caller of its statement', async () => {
    const calls: string[][] = []
    let fail = false
    const load = keyLoader(async (keys) => {
      calls.push([...keys])
      await new Promise((r) => setTimeout(r, 10))
      if (fail) throw new Error('db down')
      return new Map(keys.filter((k) => k !== 'missing').map((k) => [k, `item ${k}`]))
    })
    expect(await load('a')).toBe('item a')
    expect(calls).toEqual([['a']])
    const many = ['b', 'c', 'missing', 'b', 'd'].map((k) => load(k))
    expect(await Promise.all(many)).toEqual(['item b', 'item c', undefined, 'item b', 'item d'])
    // The first went alone; the rest waited for it and went in one statement, each key once.
    expect(calls.slice(1)).toEqual([['b'], ['c', 'missing', 'd']])
    fail = true
    const failing = [load('x'), load('y'), load('z')]
    for (const f of failing) await expect(f).rejects.toThrow('db down')
  })
})
