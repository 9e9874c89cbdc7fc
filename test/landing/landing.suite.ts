import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { describe, expect, it, onTestFinished } from 'vitest'
import { getTable } from '../../src/catalog/catalog.js'
import { type LandingOptions, type LandingTable, land } from '../../src/landing/landing.js'
import { createStateStore } from '../../src/state/state.js'
import type { ObjectStore } from '../../src/storage/storage.js'
import { createEmbeddedStream } from '../../src/stream/embedded/embedded-stream.js'
import { json, keys, text } from '../helpers/lake.js'
import { tempDir } from '../helpers/services.js'

export const tableDefaults: LandingTable = {
  maxRecords: 100,
  maxBytes: 10_000_000,
  maxAgeMs: 60_000,
  path: 'raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}',
  eventTime: undefined,
}

const tweet = (i: number, day: number) => ({
  id: String(1590000000000000000n + BigInt(i)),
  created_at: `2026-11-${day}T10:00:00Z`,
})

const dataFiles = (all: string[]) =>
  all.filter((k) => /\.(nd)?json(\.gz)?$/.test(k) && !k.split('/').some((part) => part.startsWith('_')))

/** Every record of every raw file, with the file it is in. */
async function contents(store: ObjectStore, prefix = 'raw/'): Promise<{ file: string; line: string }[]> {
  const out: { file: string; line: string }[] = []
  for (const file of dataFiles(await keys(store, prefix))) {
    const bytes = Buffer.from((await store.getBytes(file))!)
    const body = (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8')
    for (const line of body.split('\n').filter(Boolean)) out.push({ file, line })
  }
  return out
}

/** The landing stage's behaviour, run against each object store. */
export function landingSuite(name: string, newStore: () => Promise<ObjectStore>) {
  async function setup(partitions = 1) {
    const store = await newStore()
    const streamDir = await tempDir('weir-stream-')
    const stream = await createEmbeddedStream(streamDir, { partitions })
    onTestFinished(() => stream.close())
    const state = createStateStore(store)
    const options = (
      over: Partial<LandingTable> = {},
      rest: Partial<LandingOptions> = {},
    ): LandingOptions => ({
      topics: ['x'],
      state,
      table: (_s, resource) => ({
        ...tableDefaults,
        eventTime: resource === 'tweets' ? 'created_at' : undefined,
        ...over,
      }),
      ...rest,
    })
    return { store, stream, streamDir, state, options }
  }

  describe(`landing on ${name}`, () => {
    it('writes at most maxRecords per file, by event date, named after partition and offsets, with a manifest', async () => {
      const { store, stream, options } = await setup()
      await stream.publish(
        'x',
        Array.from({ length: 250 }, (_, i) => json(tweet(i, 20), 'tweets')),
      )
      await stream.publish('x', [json(tweet(250, 21), 'tweets')])
      const r = await land(stream, store, options())
      expect(r).toMatchObject({ records: 251, files: 4, errors: 0, late: 0 })
      const files = dataFiles(await keys(store, 'raw/'))
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
        positions: { partition: '0', first: '0', last: '99' },
        eventTime: { min: '2026-11-20T10:00:00.000Z', max: '2026-11-20T10:00:00.000Z' },
        late: 0,
      })
      expect(manifest.fingerprint).toMatch(/^[0-9a-f]{16}$/)
      expect(manifest.bytes).toBe((await store.head(files[0]!))!.size)
      expect((await getTable(store, 'raw', 'x_tweets'))?.location).toBe('raw/x/json/tweets/')
      expect((await land(stream, store, options())).records).toBe(0) // committed: nothing twice
    })

    it('splits files at maxBytes', async () => {
      const { store, stream, options } = await setup()
      await stream.publish(
        'x',
        Array.from({ length: 10 }, (_, i) => json({ ...tweet(i, 20), pad: 'p'.repeat(900) }, 'tweets')),
      )
      const r = await land(stream, store, options({ maxBytes: 3_000 }))
      expect(r.files).toBe(4) // ~1 KB a record, so 3 per 3 KB file
      for (const k of dataFiles(await keys(store, 'raw/'))) {
        expect((await store.head(k))!.size).toBeLessThanOrEqual(3_000)
      }
    })

    it('property: random records over 3 resources and 2 structures never mix in a file, keep the limits, and all land once', async () => {
      const { store, stream, options } = await setup(3)
      let seed = 42
      const rand = () => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
        return seed / 2 ** 31
      }
      const resources = ['tweets', 'users', 'places']
      const input: { resource: string; value: string }[] = []
      for (let i = 0; i < 3_000; i++) {
        const resource = resources[Math.floor(rand() * 3)]!
        const day = 20 + Math.floor(rand() * 3)
        // Two structures per resource: with or without a nested `geo`.
        const doc =
          rand() < 0.5
            ? {
                id: `${resource}-${i}`,
                created_at: `2026-11-${day}T0${Math.floor(rand() * 10)}:00:00Z`,
                text: 'x'.repeat(Math.floor(rand() * 300)),
              }
            : {
                id: `${resource}-${i}`,
                created_at: `2026-11-${day}T12:00:00Z`,
                geo: { lat: rand(), lon: rand() },
              }
        input.push({ resource, value: JSON.stringify(doc) })
      }
      for (let i = 0; i < input.length; ) {
        const n = 1 + Math.floor(rand() * 200)
        await stream.publish(
          'x',
          input.slice(i, i + n).map((r) => ({
            key: r.value.slice(7, 20),
            value: Buffer.from(r.value),
            headers: { resource: r.resource },
          })),
        )
        i += n
      }
      const limits = { maxRecords: 37, maxBytes: 4_000 }
      const r = await land(stream, store, options({ ...limits, eventTime: 'created_at' }))
      expect(r.errors).toBe(0)
      const all = await contents(store)
      const byFile = new Map<string, string[]>()
      for (const { file, line } of all) byFile.set(file, [...(byFile.get(file) ?? []), line])
      for (const [file, lines] of byFile) {
        const docs = lines.map((l) => JSON.parse(l) as { id: string; geo?: unknown })
        expect(new Set(docs.map((d) => d.id.split('-')[0])).size, file).toBe(1) // one resource
        expect(new Set(docs.map((d) => 'geo' in d)).size, file).toBe(1) // one structure
        expect(lines.length).toBeLessThanOrEqual(limits.maxRecords)
        expect((await store.head(file))!.size).toBeLessThanOrEqual(limits.maxBytes)
      }
      expect(all.map((x) => x.line).sort()).toEqual(input.map((x) => x.value).sort())
    })

    it('sets bad records aside in _errors/landing with reason, position and bytes; good + bad = input', async () => {
      const { store, stream, options } = await setup()
      await stream.publish('x', [
        json(tweet(1, 20), 'tweets'),
        { value: Buffer.from('{not json'), headers: { resource: 'tweets' } },
        { value: Buffer.from('{"id":"2"}'), headers: {} },
        json({ id: '3', created_at: 'yesterday-ish' }, 'tweets'),
        json({ id: '4', created_at: '2026-11-20T00:00:00Z', pad: 'x'.repeat(2_000) }, 'tweets'),
        { value: Buffer.from([0xff, 0xfe, 0x00]), headers: { resource: 'tweets' } },
        json(tweet(5, 20), 'tweets'),
      ])
      const r = await land(stream, store, options({}, { maxRecordBytes: 1_000 }))
      expect(r).toMatchObject({ records: 2, errors: 5 })
      expect(r.records + r.errors).toBe(7)
      const lines = []
      for (const f of await keys(store, '_errors/landing/x/')) {
        lines.push(
          ...(await text(store, f))
            .trimEnd()
            .split('\n')
            .map((l) => JSON.parse(l)),
        )
      }
      const got = lines
        .sort((a, b) => Number(a.offset) - Number(b.offset))
        .map((l) => [l.offset, l.partition, l.reason.replace(/(: | \d).*$/, ''), l.value ?? l.valueBase64])
      expect(got).toEqual([
        ['1', '0', 'not JSON', '{not json'],
        ['2', '0', 'no resource header', '{"id":"2"}'],
        [
          '3',
          '0',
          'no readable event time in "created_at"',
          JSON.stringify({ id: '3', created_at: 'yesterday-ish' }),
        ],
        ['4', '0', 'record is', expect.stringContaining('"id":"4"')],
        ['5', '0', 'not JSON', Buffer.from([0xff, 0xfe, 0x00]).toString('base64')],
      ])
    })

    it('writes late records into the past folders of their event time and counts them', async () => {
      const { store, stream, options } = await setup()
      await stream.publish(
        'x',
        [22, 22, 20, 22, 21].map((day, i) => json(tweet(i, day), 'tweets')),
      )
      const r = await land(stream, store, options())
      expect(r).toMatchObject({ records: 5, late: 2, errors: 0 })
      const files = dataFiles(await keys(store, 'raw/'))
      expect(files.map((f) => f.split('/').slice(4, 7).join('-')).sort()).toEqual([
        '2026-11-20',
        '2026-11-21',
        '2026-11-22',
      ])
      const m20 = (await keys(store, 'raw/x/json/tweets/2026/11/20/')).find((k) =>
        k.endsWith('.manifest.json'),
      )!
      expect(JSON.parse(await text(store, m20)).late).toBe(1)
    })

    it('keeps open files bounded: beyond maxOpenFiles the oldest are written early, nothing set aside', async () => {
      const { store, stream, options } = await setup()
      await stream.publish(
        'x',
        Array.from({ length: 100 }, (_, i) => json(tweet(i, 10 + (i % 10)), 'tweets')),
      )
      const r = await land(stream, store, options({}, { maxOpenFiles: 3 }))
      expect(r).toMatchObject({ records: 100, errors: 0 })
      expect(r.files).toBeGreaterThan(10) // more files than folders: some were written early
      expect((await contents(store)).length).toBe(100)
    })

    it('lays files out as the seed did (Raw/Twitter/JSON/yyyy/mm/dd/<file>.json), Hive style, or by local day', async () => {
      const { store, stream, options } = await setup()
      await stream.publish('x', [
        json(tweet(1, 20), 'tweets'),
        { ...json({ id: 'u1' }, 'users'), timestamp: Date.parse('2026-11-20T23:30:00Z') },
      ])
      const table = options().table
      await land(stream, store, {
        ...options(),
        extension: 'json',
        table: (s, resource) =>
          resource === 'tweets'
            ? { ...table(s, resource), path: 'Raw/Twitter/JSON/{yyyy}/{mm}/{dd}' }
            : {
                ...table(s, resource),
                path: 'raw/{source}/{resource}/year={yyyy}/month={mm}/day={dd}/hour={hh}',
              },
        timeZone: 'Europe/Paris',
      })
      expect(dataFiles(await keys(store, ''))).toEqual([
        'Raw/Twitter/JSON/2026/11/20/p0-000000000-000000000.json',
        // 23:30 UTC is already the 21st in Paris.
        'raw/x/users/year=2026/month=11/day=21/hour=00/p0-000000001-000000001.json',
      ])
    })

    it('gzips files when asked', async () => {
      const { store, stream, options } = await setup()
      await stream.publish('x', [json(tweet(1, 20), 'tweets')])
      await land(stream, store, options({}, { compression: 'gzip' }))
      const [file] = dataFiles(await keys(store, 'raw/'))
      expect(file).toMatch(/\.ndjson\.gz$/)
      expect(JSON.parse((await contents(store))[0]!.line)).toEqual(tweet(1, 20))
    })

    it('following the stream with maxAge 1s, a published record is visible within 2 s', async () => {
      const { store, stream, options } = await setup()
      const stop = new AbortController()
      const seen: number[] = []
      const running = land(stream, store, {
        ...options({ maxAgeMs: 1_000 }),
        follow: true,
        signal: stop.signal,
        onFile: () => seen.push(Date.now()),
      })
      await new Promise((r) => setTimeout(r, 300))
      const t0 = Date.now()
      await stream.publish('x', [json(tweet(1, 20), 'tweets')])
      let visible: number | undefined
      while (Date.now() - t0 < 3_000 && visible === undefined) {
        if (dataFiles(await keys(store, 'raw/')).length) visible = Date.now()
        else await new Promise((r) => setTimeout(r, 20))
      }
      stop.abort()
      await running
      expect(visible).toBeDefined()
      expect(visible! - t0).toBeLessThan(2_000)
      expect(visible! - t0).toBeGreaterThanOrEqual(900) // it did wait for the age, not flush at once
    })

    it('replays after a crash before the commit into the same files: no duplicates', async () => {
      const { store, stream, streamDir, options } = await setup()
      await stream.publish(
        'x',
        Array.from({ length: 150 }, (_, i) => json(tweet(i, 20), 'tweets')),
      )
      await land(stream, store, options())
      const before = await keys(store, 'raw/')
      const data = await contents(store)
      // The crash: files were written but the group's commit was lost.
      await stream.close()
      await rm(join(streamDir, '_groups'), { recursive: true })
      const again = await createEmbeddedStream(streamDir)
      onTestFinished(() => again.close())
      const r = await land(again, store, options())
      expect(r.records).toBe(150)
      expect(await keys(store, 'raw/')).toEqual(before)
      expect(await contents(store)).toEqual(data)
      expect((await land(again, store, options())).records).toBe(0)
    })

    it('replays a file cut by age exactly as it was cut, guided by the intents recorded before the write', async () => {
      const { store, stream, streamDir, state, options } = await setup()
      await stream.publish(
        'x',
        Array.from({ length: 30 }, (_, i) => json(tweet(i, 20), 'tweets')),
      )
      // A run that wrote a file cut early (the shutdown flush at 30 records) ...
      await land(stream, store, options())
      const first = await keys(store, 'raw/')
      const before = await store.head('raw/x/json/tweets/2026/11/20/p0-000000000-000000029.ndjson')
      // ... then crashed before its commit, while more records arrived meanwhile.
      await stream.close()
      await rm(join(streamDir, '_groups'), { recursive: true })
      const again = await createEmbeddedStream(streamDir)
      onTestFinished(() => again.close())
      await again.publish(
        'x',
        Array.from({ length: 30 }, (_, i) => json(tweet(30 + i, 20), 'tweets')),
      )
      expect((await state.get<{ intents: unknown[] }>('landing/landing/intents'))?.intents ?? []).toEqual([])
      await state.put('landing/landing/intents', {
        intents: [
          {
            topic: 'x',
            partition: '0',
            key: `tweets\u0000${await fp(store, first)}\u0000raw/x/json/tweets/2026/11/20`,
            first: '0',
            last: '29',
          },
        ],
      })
      const r = await land(again, store, options())
      expect(r.records).toBe(60)
      // Without the intent the replay would have made one file of 60 (limit 100): 0-59, duplicating 0-29.
      expect(dataFiles(await keys(store, 'raw/'))).toEqual([
        'raw/x/json/tweets/2026/11/20/p0-000000000-000000029.ndjson',
        'raw/x/json/tweets/2026/11/20/p0-000000030-000000059.ndjson',
      ])
      expect((await contents(store)).length).toBe(60)
      expect((await state.get<{ intents: unknown[] }>('landing/landing/intents'))?.intents).toEqual([])
      // The file already written was left alone, not rewritten: refine sees the same version and skips it.
      const after = await store.head('raw/x/json/tweets/2026/11/20/p0-000000000-000000029.ndjson')
      expect(after?.etag).toBe(before?.etag)
    })

    it('skips the rest of a recorded file when the commit had passed its first record (it was durable)', async () => {
      const { store, stream, streamDir, state, options } = await setup()
      await stream.publish(
        'x',
        Array.from({ length: 30 }, (_, i) => json(tweet(i, 20), 'tweets')),
      )
      await land(stream, store, options())
      const files = await keys(store, 'raw/')
      // The crash: the file 0-29 was written and a commit reached offset 9 (other keys' files
      // allowed it), but the intent was not pruned yet.
      await stream.close()
      const { writeFile } = await import('node:fs/promises')
      await writeFile(join(streamDir, '_groups', 'landing.json'), JSON.stringify({ x: { 0: 10 } }))
      await state.put('landing/landing/intents', {
        intents: [
          {
            topic: 'x',
            partition: '0',
            key: `tweets\u0000${await fp(store, files)}\u0000raw/x/json/tweets/2026/11/20`,
            first: '0',
            last: '29',
          },
        ],
      })
      const again = await createEmbeddedStream(streamDir)
      onTestFinished(() => again.close())
      await again.publish('x', [json(tweet(30, 20), 'tweets')])
      await land(again, store, options())
      expect(dataFiles(await keys(store, 'raw/'))).toEqual([
        'raw/x/json/tweets/2026/11/20/p0-000000000-000000029.ndjson',
        'raw/x/json/tweets/2026/11/20/p0-000000030-000000030.ndjson',
      ])
      expect((await contents(store)).length).toBe(31)
    })
  })
}

async function fp(store: ObjectStore, files: string[]): Promise<string> {
  const m = files.find((k) => k.endsWith('.manifest.json'))!
  return JSON.parse(await text(store, m)).fingerprint
}
