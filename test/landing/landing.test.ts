import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { getTable } from '../../src/catalog/catalog.js'
import { type LandingOptions, land } from '../../src/landing/landing.js'
import { createEmbeddedStream } from '../../src/stream/embedded/embedded-stream.js'
import { json, keys, scratchLake, text } from '../helpers/lake.js'

const options: LandingOptions = {
  topics: ['x'],
  maxRecords: 100,
  maxBytes: 10_000_000,
  maxAgeMs: 60_000,
  path: 'raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}',
  eventTime: (_s, resource) => (resource === 'tweets' ? 'created_at' : undefined),
}

const tweet = (i: number, day: number) => ({
  id: String(1590000000000000000n + BigInt(i)),
  created_at: `2026-11-${day}T10:00:00Z`,
})

describe('landing', () => {
  it('writes at most maxRecords per file, by event date, named after stream offsets, with a manifest', async () => {
    const { store, stream } = await scratchLake()
    await stream.publish(
      'x',
      Array.from({ length: 250 }, (_, i) => json(tweet(i, 20), 'tweets')),
    )
    await stream.publish('x', [json(tweet(250, 21), 'tweets')])
    const r = await land(stream, store, options)
    expect(r).toMatchObject({ records: 251, files: 4, errors: 0, untimed: 0 })
    const files = (await keys(store, 'raw/')).filter((k) => k.endsWith('.ndjson'))
    expect(files).toEqual([
      'raw/x/json/tweets/2026/11/20/p0-000000000-000000099.ndjson',
      'raw/x/json/tweets/2026/11/20/p0-000000100-000000199.ndjson',
      'raw/x/json/tweets/2026/11/20/p0-000000200-000000249.ndjson',
      'raw/x/json/tweets/2026/11/21/p0-000000250-000000250.ndjson',
    ])
    const first = (await text(store, files[0]!)).trimEnd().split('\n')
    expect(first).toHaveLength(100)
    expect(JSON.parse(first[0]!)).toEqual(tweet(0, 20)) // exactly as the source sent it
    const manifest = JSON.parse(
      await text(store, 'raw/x/json/tweets/2026/11/20/_p0-000000000-000000099.manifest.json'),
    )
    expect(manifest).toMatchObject({
      source: 'x',
      resource: 'tweets',
      records: 100,
      offsets: { partition: '0', first: '0', last: '99' },
    })
    expect((await getTable(store, 'raw', 'x_tweets'))?.location).toBe('raw/x/json/tweets/')
  })

  it('splits files at maxBytes', async () => {
    const { store, stream } = await scratchLake()
    await stream.publish(
      'x',
      Array.from({ length: 10 }, (_, i) => json({ ...tweet(i, 20), pad: 'p'.repeat(900) }, 'tweets')),
    )
    const r = await land(stream, store, { ...options, maxBytes: 3_000 })
    expect(r.files).toBe(4) // ~1 KB a record, so 3 per 3 KB file
    for (const k of (await keys(store, 'raw/')).filter((k) => k.endsWith('.ndjson'))) {
      expect((await store.head(k))!.size).toBeLessThanOrEqual(3_000)
    }
  })

  it('replays after a crash before the commit into the same files: no duplicates', async () => {
    const { store, stream, streamDir } = await scratchLake()
    await stream.publish(
      'x',
      Array.from({ length: 150 }, (_, i) => json(tweet(i, 20), 'tweets')),
    )
    await land(stream, store, options)
    const before = await keys(store, 'raw/')
    const contents = await Promise.all(before.filter((k) => k.endsWith('.ndjson')).map((k) => text(store, k)))
    // The crash: files were written but the group's commit was lost.
    await stream.close()
    await rm(join(streamDir, '_groups'), { recursive: true })
    const again = await createEmbeddedStream(streamDir)
    const r = await land(again, store, options)
    expect(r.records).toBe(150)
    expect(await keys(store, 'raw/')).toEqual(before)
    expect(await Promise.all(before.filter((k) => k.endsWith('.ndjson')).map((k) => text(store, k)))).toEqual(
      contents,
    )
    // And once committed, nothing is landed twice.
    expect((await land(again, store, options)).records).toBe(0)
    await again.close()
  })

  it('sets bad records aside in _errors/landing with the reason, and lands the rest', async () => {
    const { store, stream } = await scratchLake()
    await stream.publish('x', [
      json(tweet(1, 20), 'tweets'),
      { value: Buffer.from('{not json'), headers: { resource: 'tweets' } },
      { value: Buffer.from('{"id":"2"}'), headers: {} },
      json({ id: '3', created_at: 'yesterday-ish' }, 'tweets'),
    ])
    const r = await land(stream, store, options)
    expect(r).toMatchObject({ records: 2, errors: 2, untimed: 1 })
    const errFiles = await keys(store, '_errors/landing/x/')
    expect(errFiles).toHaveLength(1)
    const lines = (await text(store, errFiles[0]!))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines.map((l) => [l.offset, l.reason.split(':')[0], l.value])).toEqual([
      ['1', 'not JSON', '{not json'],
      ['2', 'no resource header', '{"id":"2"}'],
    ])
  })
})
