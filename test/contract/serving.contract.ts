import { describe, expect, it } from 'vitest'
import type { Item, Query, ServingStore, TableSpec } from '../../src/serve/stores/store.js'

const items = Array.from({ length: 250 }, (_, i) => ({
  key: `t${String(i).padStart(4, '0')}`,
  item: {
    id: `t${i}`,
    author_id: `u${i % 7}`,
    likes: (i * 37) % 500,
    text: `tweet ${i}`,
    nested: { lang: i % 2 ? 'en' : 'pt' },
  },
}))

async function walk(store: ServingStore, t: TableSpec, q: Omit<Query, 'limit' | 'cursor'>, limit = 7) {
  const out: { key: string; item: Item }[] = []
  let cursor: string | undefined
  for (let pages = 0; pages < 1000; pages++) {
    const page = await store.query(t, { ...q, limit, ...(cursor ? { cursor } : {}) })
    expect(page.items.length).toBeLessThanOrEqual(limit)
    out.push(...page.items)
    if (!page.cursor) break
    cursor = page.cursor
  }
  return out
}

/** The serving-store contract: every store answers the same questions the same way. */
export function servingContract(name: string, open: () => Promise<ServingStore>): void {
  describe(`serving store contract: ${name}`, () => {
    it('deletes by key: gone from reads, counts and indexes; a key not there is no error', async () => {
      const store = await open()
      const t: TableSpec = {
        name: `del_${Math.random().toString(36).slice(2, 8)}`,
        indexes: { author_id: 'string' },
      }
      try {
        await store.ensure(t)
        await store.upsert(t, items.slice(0, 60))
        expect(await store.get(t, 't0005')).toEqual(items[5]!.item) // in a cache, if the store keeps one
        const gone = items
          .slice(0, 60)
          .filter((_, i) => i % 3 === 0)
          .map((r) => r.key)
        await store.delete(t, [...gone, 'never-there'])
        expect(await store.count(t)).toBe(40)
        expect(await store.get(t, 't0003')).toBeUndefined()
        expect(await store.get(t, 't0004')).toEqual(items[4]!.item)
        const left = await walk(store, t, { index: 'author_id', where: { op: 'eq', value: 'u0' } })
        expect(left.some((r) => gone.includes(r.key))).toBe(false)
        expect(left.length).toBe(
          items.slice(0, 60).filter((r, i) => i % 3 !== 0 && r.item.author_id === 'u0').length,
        )
        await store.delete(t, [])
      } finally {
        await store.close()
      }
    })

    it('upserts idempotently, reads by key, and pages through indexes in order', async () => {
      const store = await open()
      const t: TableSpec = {
        name: `tweets_${Math.random().toString(36).slice(2, 8)}`,
        indexes: { author_id: 'string', likes: 'number', 'nested.lang': 'string' },
      }
      try {
        await store.ensure(t)
        await store.ensure(t)
        await store.upsert(t, items)
        expect(await store.count(t)).toBe(250)
        // A replay (and a redelivery inside one batch) changes nothing.
        await store.upsert(t, [...items.slice(0, 100), ...items.slice(0, 10)])
        expect(await store.count(t)).toBe(250)
        expect(await store.get(t, 't0003')).toEqual(items[3]!.item)
        expect(await store.get(t, 'nope')).toBeUndefined()

        const all = await walk(store, t, {})
        expect(all.map((r) => r.key).sort()).toEqual(items.map((r) => r.key))

        const byAuthor = await walk(store, t, { index: 'author_id', where: { op: 'eq', value: 'u3' } })
        expect(byAuthor.map((r) => r.key).sort()).toEqual(
          items.filter((r) => r.item.author_id === 'u3').map((r) => r.key),
        )

        const inTwo = await walk(
          store,
          t,
          { index: 'author_id', where: { op: 'in', values: ['u1', 'u5'] } },
          10,
        )
        expect(inTwo.map((r) => r.key).sort()).toEqual(
          items.filter((r) => ['u1', 'u5'].includes(r.item.author_id)).map((r) => r.key),
        )

        const popular = await walk(
          store,
          t,
          { index: 'likes', where: { op: 'gte', value: 400 }, desc: true },
          9,
        )
        expect(popular.map((r) => r.key).sort()).toEqual(
          items.filter((r) => r.item.likes >= 400).map((r) => r.key),
        )
        const likes = popular.map((r) => r.item.likes as number)
        expect(likes).toEqual([...likes].sort((a, b) => b - a))

        const pt = await walk(store, t, { index: 'nested.lang', where: { op: 'prefix', value: 'p' } }, 50)
        expect(pt).toHaveLength(125)
        const few = await walk(store, t, { index: 'likes', where: { op: 'lt', value: 20 } })
        expect(few.map((r) => r.item.likes as number)).toEqual(
          items
            .filter((r) => r.item.likes < 20)
            .map((r) => r.item.likes)
            .sort((a, b) => a - b),
        )
      } finally {
        await store.close()
      }
    }, 60_000)
  })
}
