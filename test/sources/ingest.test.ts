import { describe, expect, it } from 'vitest'
import { configSchema } from '../../src/config/schema.js'
import { WeirError } from '../../src/core/errors.js'
import { ingest } from '../../src/sources/ingest.js'
import { createSource } from '../../src/sources/registry.js'
import type { PullContext, SourceBatch } from '../../src/sources/source.js'
import { createStateStore } from '../../src/state/state.js'
import { noState, scratchLake } from '../helpers/lake.js'

function codeSource(pull: (ctx: PullContext) => AsyncIterable<SourceBatch>) {
  const config = configSchema.parse({ sources: { shop: { kind: 'code', pull } } })
  return createSource('shop', config.sources.shop!)
}

describe('ingest', () => {
  it('publishes each batch with its resource and saves the cursor only after the stream has it', async () => {
    const { store, stream } = await scratchLake()
    const state = createStateStore(store)
    const seen: unknown[] = []
    const source = codeSource(async function* ({ cursor }) {
      seen.push(cursor)
      const from = (cursor as number | undefined) ?? 0
      yield { records: [{ resource: 'orders', data: { id: from + 1 } }], cursor: from + 1 }
      yield { records: [{ resource: 'refunds', data: { id: from + 2 } }], cursor: from + 2 }
    })
    const r = await ingest(source, stream, store, { state })
    expect(r).toMatchObject({ records: 2, batches: 2, byResource: { orders: 1, refunds: 1 } })
    expect(await state.get('sources/shop')).toMatchObject({ cursor: 2 })
    await ingest(source, stream, store, { state })
    expect(seen).toEqual([undefined, 2]) // the second run resumes from the saved cursor
    const got = await (await stream.consumer('t', ['shop'])).poll({ maxRecords: 10 })
    expect(got.map((d) => [d.headers.resource, JSON.parse(Buffer.from(d.value).toString()).id])).toEqual([
      ['orders', 1],
      ['refunds', 2],
      ['orders', 3],
      ['refunds', 4],
    ])
  })

  it('gives code sources the same state helpers: documents kept beside the cursor across runs', async () => {
    const { store, stream } = await scratchLake()
    const state = createStateStore(store)
    const source = codeSource(async function* (ctx) {
      const seen = ((await ctx.state.get<number>('runs')) ?? 0) + 1
      await ctx.state.put('runs', seen)
      yield { records: [{ resource: 'runs', data: { seen } }] }
    })
    await ingest(source, stream, store, { state })
    await ingest(source, stream, store, { state })
    expect(await state.get('sources/shop/runs')).toBe(2)
  })

  it('keeps the old cursor when the stream never got the batch', async () => {
    const { store, stream } = await scratchLake()
    const state = createStateStore(store)
    const source = codeSource(async function* () {
      yield { records: [{ resource: 'orders', data: { id: 1 } }], cursor: 1 }
      yield { records: [{ resource: 'orders', data: { id: 2, total: 10n } }], cursor: 2 }
    })
    const err = await ingest(source, stream, store, { state }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WeirError)
    expect((err as WeirError).message).toMatch(/source shop: a orders record is not JSON-serialisable/)
    expect(await state.get('sources/shop')).toMatchObject({ cursor: 1 })
  })

  it('never saves a cursor past a batch the stream refused, even if later batches got in', async () => {
    const { store, stream } = await scratchLake()
    const state = createStateStore(store)
    let calls = 0
    // The real embedded stream, except that its second publish fails (a full disk, say) after a pause.
    const flaky = {
      ...stream,
      publish: async (topic: string, records: Parameters<typeof stream.publish>[1]) => {
        calls++
        if (calls === 2) {
          await new Promise((r) => setTimeout(r, 30))
          throw new Error('disk full')
        }
        return stream.publish(topic, records)
      },
    }
    const source = codeSource(async function* () {
      for (let i = 1; i <= 6; i++) yield { records: [{ resource: 'orders', data: { id: i } }], cursor: i }
    })
    await expect(ingest(source, flaky, store, { state })).rejects.toThrow('disk full')
    expect(await state.get('sources/shop')).toMatchObject({ cursor: 1 })
  })

  it('after a crash between the stream acknowledging a batch and its cursor being saved, publishes nothing twice', async () => {
    const { store, stream } = await scratchLake()
    const real = createStateStore(store)
    const seen: unknown[] = []
    const source = codeSource(async function* ({ cursor }) {
      seen.push(cursor)
      for (let i = ((cursor as number | undefined) ?? 0) + 1; i <= 6; i++)
        yield { records: [0, 1].map((k) => ({ resource: 'orders', data: { id: i, k } })), cursor: i }
    })
    // The process "dies" at the write that would save batch 3 as acknowledged: batches 3 to 6
    // are in the stream (four publishes in flight at once), their cursors are not saved.
    let acks = 0
    const dying = {
      ...real,
      put: async (name: string, value: unknown) => {
        // (Writes coalesce: the first that would record batch 3 or a later one as acknowledged.)
        if (name === 'sources/shop' && ((value as { seq?: number }).seq ?? 0) >= 3 && acks === 0) {
          acks++
          throw new Error('killed')
        }
        return real.put(name, value)
      },
    }
    await expect(ingest(source, stream, store, { state: dying })).rejects.toThrow('killed')
    expect(acks).toBe(1)
    const r = await ingest(source, stream, store, { state: real })
    const ids = (await (await stream.consumer('t', ['shop'])).poll({ maxRecords: 100 })).map((d) => {
      const v = JSON.parse(Buffer.from(d.value).toString())
      return `${v.id}.${v.k}`
    })
    expect(ids.sort()).toEqual([1, 2, 3, 4, 5, 6].flatMap((i) => [`${i}.0`, `${i}.1`]))
    // The restart went on after the last batch the stream held whole, and published only the rest.
    const from = seen.at(-1) as number
    expect(from).toBeGreaterThanOrEqual(3)
    expect(r.records).toBe((6 - from) * 2)
  })

  it('a batch the stream holds in part is completed with the records it lacks, once each', async () => {
    const { store, stream } = await scratchLake()
    const state = createStateStore(store)
    const source = codeSource(async function* ({ cursor }) {
      for (let i = ((cursor as number | undefined) ?? 0) + 1; i <= 3; i++)
        yield { records: [0, 1, 2, 3].map((k) => ({ resource: 'orders', data: { id: i, k } })), cursor: i }
    })
    // A remote stream cut off mid-publish (a NATS publish is one message per record): half of
    // batch 2 got in, then the connection dropped.
    let calls = 0
    const cut = {
      ...stream,
      publish: async (topic: string, records: Parameters<typeof stream.publish>[1]) => {
        if (++calls === 2) {
          await stream.publish(topic, records.slice(0, 2))
          throw new WeirError('connection lost', { code: 'STREAM_CONNECT', stage: 'stream', retryable: true })
        }
        return stream.publish(topic, records)
      },
    }
    await expect(ingest(source, cut, store, { state })).rejects.toThrow('connection lost')
    const r = await ingest(source, stream, store, { state })
    // Two records of batch 2, and all of batch 3 (in flight beside it), found in the stream.
    expect(r.recovered).toBe(6)
    expect(r.records).toBe(2)
    const ids = (await (await stream.consumer('t', ['shop'])).poll({ maxRecords: 100 })).map((d) => {
      const v = JSON.parse(Buffer.from(d.value).toString())
      return `${v.id}.${v.k}`
    })
    expect(ids.sort()).toEqual([1, 2, 3].flatMap((i) => [0, 1, 2, 3].map((k) => `${i}.${k}`)))
  })

  it('a batch pulled again with other content (an API page after new items arrived) skips just what the stream holds', async () => {
    const { store, stream } = await scratchLake()
    const state = createStateStore(store)
    let run = 0
    // Newest first, like X's search: on the second run a new item heads the page, shifting the rest.
    const source = codeSource(async function* () {
      run++
      const ids = run === 1 ? [5, 4, 3, 2] : [6, 5, 4, 3, 2]
      yield { records: ids.map((id) => ({ resource: 'items', data: { id } })), cursor: 'page-1' }
    })
    let calls = 0
    const cut = {
      ...stream,
      publish: async (topic: string, records: Parameters<typeof stream.publish>[1]) => {
        if (++calls === 1) {
          await stream.publish(topic, records.slice(0, 2)) // 5 and 4 got in
          throw new WeirError('connection lost', { code: 'STREAM_CONNECT', stage: 'stream', retryable: true })
        }
        return stream.publish(topic, records)
      },
    }
    await expect(ingest(source, cut, store, { state })).rejects.toThrow('connection lost')
    const r = await ingest(source, stream, store, { state })
    expect(r).toMatchObject({ recovered: 2, records: 3 })
    const ids = (await (await stream.consumer('t', ['shop'])).poll({ maxRecords: 100 })).map(
      (d) => JSON.parse(Buffer.from(d.value).toString()).id,
    )
    expect(ids.sort()).toEqual([2, 3, 4, 5, 6])
  })

  it('records known by their identity are left out wherever they come back (new items pushed them to the next page)', async () => {
    const { store, stream } = await scratchLake()
    const state = createStateStore(store)
    let run = 0
    const source = codeSource(async function* () {
      run++
      const pages =
        run === 1
          ? [[5, 4, 3]]
          : [
              [7, 6],
              [5, 4, 3],
            ]
      for (const [n, ids] of pages.entries())
        yield {
          // The values moved too: an item's metrics grow between two pulls.
          records: ids.map((id) => ({ resource: 'items', data: { id, likes: run * 10 } })),
          cursor: `page-${n}`,
        }
    })
    let calls = 0
    const cut = {
      ...stream,
      publish: async (topic: string, records: Parameters<typeof stream.publish>[1]) => {
        if (++calls === 1) {
          await stream.publish(topic, records.slice(0, 2)) // 5 and 4 got in
          throw new WeirError('connection lost', { code: 'STREAM_CONNECT', stage: 'stream', retryable: true })
        }
        return stream.publish(topic, records)
      },
    }
    const identity = () => ['id']
    await expect(ingest(source, cut, store, { state, identity })).rejects.toThrow('connection lost')
    const r = await ingest(source, stream, store, { state, identity })
    expect(r).toMatchObject({ recovered: 2, records: 3 })
    const ids = (await (await stream.consumer('t', ['shop'])).poll({ maxRecords: 100 })).map(
      (d) => JSON.parse(Buffer.from(d.value).toString()).id,
    )
    expect(ids.sort()).toEqual([3, 4, 5, 6, 7])
  })

  it('demo sources are deterministic for a seed and shaped like the APIs', async () => {
    const config = configSchema.parse({ sources: { x: { kind: 'demo', dataset: 'x', count: 30, seed: 7 } } })
    const now = new Date('2026-11-22T00:00:00Z')
    const pull = async () => {
      const { createDemoSource } = await import('../../src/sources/demo/demo-source.js')
      const out = []
      const src = createDemoSource('x', config.sources.x as never, now)
      for await (const b of src.pull({
        cursor: undefined,
        signal: new AbortController().signal,
        state: noState,
      }))
        out.push(...b.records)
      return out
    }
    const a = await pull()
    expect(a).toEqual(await pull())
    const tweet = a.find((r) => r.resource === 'tweets')!.data as Record<string, unknown>
    expect(tweet.id).toMatch(/^\d{19}$/) // X ids are strings beyond 2^53
    expect(Object.keys(tweet)).toEqual(
      expect.arrayContaining(['id', 'text', 'author_id', 'created_at', 'public_metrics']),
    )
  })
})
