import { describe, expect, it } from 'vitest'
import { getTable, listTables, putTable, type TableEntry } from '../../src/catalog/catalog.js'
import { createLeases } from '../../src/state/lease.js'
import { createStateStore } from '../../src/state/state.js'
import type { ObjectStore } from '../../src/storage/storage.js'

const entry = (zone: TableEntry['zone'], name: string, columns: TableEntry['columns']): TableEntry => ({
  zone,
  name,
  location: `${zone}/${name}/`,
  format: 'parquet',
  partitioning: ['dt'],
  columns,
  updatedAt: '2026-12-02T00:00:00.000Z',
})

/**
 * The catalog and state contract: the lake's tables and its progress (cursors, ledgers, leases) are
 * documents in the lake, so they must read back the same on every storage adapter.
 */
export function lakeStateContract(
  name: string,
  open: () => Promise<ObjectStore>,
  options: { readonly conditional?: boolean } = {},
): void {
  describe(`catalog and state contract: ${name}`, () => {
    it('state documents read back as written, are replaced whole, and are listed by folder', async () => {
      const state = createStateStore(await open())
      expect(await state.get('sources/none')).toBeUndefined()
      const cursor = {
        cursor: { partitions: { 'search:"#duckdb"': { value: '1590000000000000042' } } },
        seq: 7,
      }
      await state.put('sources/x', cursor)
      await state.put('sources/x/backfill/2026-11-01', { seq: 1 })
      await state.put('refine/x_tweets', { seq: 3, files: { 'raw/x/a.ndjson': { size: 10, seq: 3 } } })
      expect(await state.get('sources/x')).toEqual(cursor)
      await state.put('sources/x', { seq: 8 })
      expect(await state.get('sources/x')).toEqual({ seq: 8 })
      expect((await state.list('sources')).sort()).toEqual(['sources/x', 'sources/x/backfill/2026-11-01'])
      expect(await state.list('nothing/here')).toEqual([])
    })

    it('catalog entries read back as written, newest write wins, listed by zone in order', async () => {
      const store = await open()
      await putTable(store, entry('trusted', 'x_tweets', [{ name: 'id', type: 'VARCHAR' }]))
      await putTable(store, entry('refined', 'fact_tweet', [{ name: 'tweet_id', type: 'VARCHAR' }]))
      await putTable(store, entry('trusted', 'weather_realtime', [{ name: 'time', type: 'TIMESTAMP' }]))
      const wider = entry('trusted', 'x_tweets', [
        { name: 'id', type: 'VARCHAR' },
        { name: 'like_count', type: 'BIGINT' },
      ])
      await putTable(store, wider)
      expect(await getTable(store, 'trusted', 'x_tweets')).toEqual(wider)
      expect(await getTable(store, 'raw', 'x_tweets')).toBeUndefined()
      expect((await listTables(store)).map((t) => `${t.zone}.${t.name}`)).toEqual([
        'trusted.weather_realtime',
        'trusted.x_tweets',
        'refined.fact_tweet',
      ])
      expect((await listTables(store, 'refined')).map((t) => t.name)).toEqual(['fact_tweet'])
    })

    it.runIf(options.conditional !== false)(
      'a lease is held by one owner at a time, renewed by its holder, and free once released',
      async () => {
        const store = await open()
        const a = createLeases(store, 'owner-a')
        const b = createLeases(store, 'owner-b')
        expect(await a.acquire('refine/x_tweets', 60_000)).toBe(true)
        expect(await b.acquire('refine/x_tweets', 60_000)).toBe(false)
        expect(await a.acquire('refine/x_tweets', 60_000)).toBe(true)
        await a.release('refine/x_tweets')
        expect(await b.acquire('refine/x_tweets', 60_000)).toBe(true)
      },
    )
  })
}
