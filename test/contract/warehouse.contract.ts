import { describe, expect, it } from 'vitest'
import { openWarehouse, type WarehouseConfig } from '../../src/warehouse/registry.js'
import { modelProject, tweet, user } from '../models/helpers.js'

/** A warehouse under test: where a load goes, and how to count what arrived. */
export interface WarehouseHarness {
  /** The config of a fresh target (a schema, a database) of this warehouse. */
  target(): WarehouseConfig[keyof WarehouseConfig]
  /** Rows of a table in the target, and the sum of a numeric column. */
  count(
    target: WarehouseConfig[keyof WarehouseConfig],
    table: string,
    sumOf: string,
  ): Promise<{ n: number; sum: number }>
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i)

/**
 * The warehouse contract: a first load copies each refined table whole; a load with nothing new
 * changes nothing; after new data, a keyed table takes only the new and changed rows and ends up
 * equal to the lake's.
 */
export function warehouseContract(
  kind: keyof WarehouseConfig,
  harness: () => Promise<WarehouseHarness>,
): void {
  describe(`warehouse contract: ${kind}`, () => {
    it('loads a refined table whole, then nothing when nothing changed, then only the changed keys', async () => {
      const h = await harness()
      const project = await modelProject()
      const target = h.target()
      const p = await project.pipeline()
      try {
        await project.load([
          ...range(0, 3).map((i) => ({ resource: 'users', data: user(i) })),
          ...range(0, 40).map((i) => ({ resource: 'tweets', data: tweet(i, 20) })),
        ])
        await p.models({ select: ['fact_tweet'], test: false })
        const ctx = { store: p.store, engine: await p.engine(), state: p.state, stagingDir: project.dir }
        const load = () => openWarehouse(kind, { ...target, select: ['fact_tweet'] }, ctx).load()

        const first = await load()
        expect(first.map((r) => [r.table, r.mode, r.rows])).toEqual([['fact_tweet', 'full', 40]])
        expect(await h.count(target, 'fact_tweet', 'likes')).toEqual({
          n: 40,
          sum: range(0, 40).reduce((a, b) => a + b, 0),
        })

        expect((await load()).map((r) => r.mode)).toEqual(['unchanged'])

        // Five tweets get new metrics, five new ones arrive.
        await project.load([
          ...range(0, 5).map((i) => ({ resource: 'tweets', data: tweet(i, 20, i + 100) })),
          ...range(40, 45).map((i) => ({ resource: 'tweets', data: tweet(i, 21) })),
        ])
        await p.models({ select: ['fact_tweet'], test: false })
        const next = await load()
        expect(next.map((r) => [r.table, r.mode, r.changed])).toEqual([['fact_tweet', 'incremental', 10]])
        const likes = range(5, 45).reduce((a, b) => a + b, 0) + range(0, 5).reduce((a, b) => a + b + 100, 0)
        expect(await h.count(target, 'fact_tweet', 'likes')).toEqual({ n: 45, sum: likes })
      } finally {
        await p.close()
        await project.close()
      }
    })
  })
}
