import { describe, expect, it } from 'vitest'
import type { Source, SourceBatch, SourceState } from '../../src/sources/source.js'
import { memoryState } from '../helpers/lake.js'

/** A source under test, built from its registry definition against a real or emulated service. */
export interface SourceHarness {
  readonly source: Source
  /** Records the source holds in all, when it knows (a file, a fixed dataset). */
  readonly expected?: number
  /**
   * Whether a pull from the last cursor goes on after what was pulled. A generator of synthetic
   * data (the demo source) makes its records again each run and says so.
   */
  readonly resumes: boolean
  close(): Promise<void>
}

async function pullAll(
  source: Source,
  cursor: unknown,
  state: SourceState,
  signal = new AbortController().signal,
) {
  const batches: SourceBatch[] = []
  for await (const b of source.pull({ cursor, signal, state })) batches.push(b)
  return batches
}

const identity = (r: { resource: string; data: unknown }) => `${r.resource}:${JSON.stringify(r.data)}`

/**
 * The source contract: batches of records each with a resource and JSON data, cursors that
 * survive being saved as JSON, a pull resumed from the last cursor that repeats nothing, and a
 * pull that stops when its signal aborts.
 */
export function sourceContract(kind: string, start: () => Promise<SourceHarness>): void {
  describe(`source contract: ${kind}`, () => {
    it('yields records with a resource and JSON data, and cursors that survive JSON', async () => {
      const h = await start()
      try {
        const batches = await pullAll(h.source, undefined, memoryState())
        const records = batches.flatMap((b) => b.records)
        expect(records.length).toBeGreaterThan(0)
        if (h.expected !== undefined) expect(records.length).toBe(h.expected)
        for (const r of records) {
          expect(r.resource).toMatch(/^[A-Za-z0-9_]+$/)
          expect(JSON.parse(JSON.stringify(r.data))).toEqual(r.data)
        }
        for (const b of batches) {
          if (b.cursor !== undefined) expect(JSON.parse(JSON.stringify(b.cursor))).toEqual(b.cursor)
          for (const e of b.errors ?? []) expect(e.reason).not.toBe('')
        }
      } finally {
        await h.close()
      }
    })

    it('resumed from the last cursor saved, repeats no record', async (ctx) => {
      const h = await start()
      try {
        if (!h.resumes) {
          ctx.skip(`${kind} makes its records again on each run`)
          return
        }
        const state = memoryState()
        const first = await pullAll(h.source, undefined, state)
        const cursor = JSON.parse(
          JSON.stringify(first.findLast((b) => b.cursor !== undefined)?.cursor ?? null),
        )
        const seen = new Set(first.flatMap((b) => b.records.map(identity)))
        const again = (await pullAll(h.source, cursor, state)).flatMap((b) => b.records)
        expect(again.filter((r) => seen.has(identity(r)))).toEqual([])
      } finally {
        await h.close()
      }
    })

    it('stops when its signal aborts, after the batch in hand', async () => {
      const h = await start()
      try {
        const ctl = new AbortController()
        let batches = 0
        for await (const _ of h.source.pull({
          cursor: undefined,
          signal: ctl.signal,
          state: memoryState(),
        })) {
          batches++
          ctl.abort()
        }
        expect(batches).toBeLessThanOrEqual(2)
      } catch (err) {
        // A request cut by the abort may end the pull with the abort's reason: that is stopping too.
        expect((err as Error).name).toMatch(/AbortError|TimeoutError/)
      } finally {
        await h.close()
      }
    })
  })
}
