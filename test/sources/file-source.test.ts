import { readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { attachLake } from '../../src/catalog/views.js'
import { createEngine, sqlString } from '../../src/engine/engine.js'
import { keys, scratchLake } from '../helpers/lake.js'
import { published, runSource } from '../helpers/rest.js'
import { tempDir } from '../helpers/services.js'

const fixture = resolve('test/fixtures/quoted.csv')
const csv = { delimiter: '|', null: '\\N' }

/** The rows of a CSV as DuckDB reads it: an independent reader to compare with. */
async function duckRows(path: string, encoding = 'utf-8', quotedNulls = true) {
  const e = await createEngine()
  const { rows } = await e.query(
    `select * from read_csv(${sqlString(path)}, delim = '|', header = true, all_varchar = true, nullstr = '\\N', allow_quoted_nulls = ${quotedNulls}, encoding = ${sqlString(encoding)})`,
  )
  await e.close()
  return rows
}

describe('file sources', () => {
  it('lands a |-separated CSV byte for byte and emits rows equal to the file, with \\N as null', async () => {
    const lake = await scratchLake()
    const r = await runSource({ movies: { kind: 'file', path: fixture, csv, raw: 'both' } }, 'movies', lake)
    expect(r).toMatchObject({ records: 4, files: 1, errors: 0 })
    const [landed] = (await keys(lake.store, 'raw/movies/csv/')).filter((k) => k.endsWith('.csv'))
    expect(landed).toMatch(/^raw\/movies\/csv\/quoted_file\/\d{4}\/\d{2}\/\d{2}\/quoted\.csv$/)
    expect(Buffer.compare(Buffer.from((await lake.store.getBytes(landed!))!), await readFile(fixture))).toBe(
      0,
    )
    const rows = (await published(lake.stream, 'movies')).map((p) => p.data)
    expect(rows).toEqual(await duckRows(fixture))
    expect(rows[1]!.note).toBeNull() // \N is null
    expect(rows[3]!.note).toBeNull() // quoted too, by default, as DuckDB reads it
    expect(rows[2]!.note).toBe('line one\r\nline two')
    // The landed file is a table too, read with its own options.
    const e = await createEngine()
    await attachLake(e, lake.store)
    expect(
      (await e.query('select count(*) as n, count(year) as years from raw.movies_quoted_file')).rows,
    ).toEqual([{ n: 4, years: 3 }])
    await e.close()
  })

  it('keeps a quoted \\N as text with quotedNulls: false, as PostgreSQL does', async () => {
    const lake = await scratchLake()
    await runSource({ m: { kind: 'file', path: fixture, csv: { ...csv, quotedNulls: false } } }, 'm', lake)
    const rows = (await published(lake.stream, 'm')).map((p) => p.data)
    expect(rows[1]!.note).toBeNull()
    expect(rows[3]!.note).toBe('\\N')
    expect(rows).toEqual(await duckRows(fixture, 'utf-8', false))
  })

  it('reads Latin-1 files', async () => {
    const lake = await scratchLake()
    const path = resolve('test/fixtures/quoted-latin1.csv')
    await runSource(
      { m: { kind: 'file', path, resource: 'movies', csv: { ...csv, encoding: 'latin1' } } },
      'm',
      lake,
    )
    const rows = (await published(lake.stream, 'm')).map((p) => p.data)
    expect(rows[3]!.title).toBe('Den sorte drøm')
    expect(rows).toEqual(await duckRows(path, 'latin-1'))
  })

  it('takes each file once, again only when it changes, and sets bad rows aside with the reason', async () => {
    const dir = await tempDir('weir-files-')
    await writeFile(join(dir, 'a.ndjson'), '{"id":1}\n{"id":2}\nnot json\n')
    await writeFile(join(dir, 'b.csv'), 'id,name\n1,x\n2,y,extra\n3,z\n')
    await writeFile(join(dir, 'c.json'), '[{"id":7},{"id":8}]')
    const lake = await scratchLake()
    const src = { f: { kind: 'file', path: join(dir, '*.*') } }
    const r1 = await runSource(src, 'f', lake)
    expect(r1).toMatchObject({ records: 6, errors: 2 })
    expect((await published(lake.stream, 'f', 'g')).map((p) => `${p.resource}:${p.data.id}`)).toEqual([
      'a:1',
      'a:2',
      'b:1',
      'b:3',
      'c:7',
      'c:8',
    ])
    const errFiles = await keys(lake.store, '_errors/source/f/')
    // The same path shape as landing's and refine's: source, resource, day.
    for (const k of errFiles)
      expect(k).toMatch(/^_errors\/source\/f\/[\w-]+\/\d{4}\/\d{2}\/\d{2}\/[^/]+\.ndjson$/)
    const errors = (
      await Promise.all(errFiles.map(async (k) => Buffer.from((await lake.store.getBytes(k))!).toString()))
    )
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(errors.map((e) => e.reason).sort()).toEqual([
      expect.stringMatching(/^a\.ndjson: line 3: /),
      expect.stringMatching(/^b\.csv: line 3: Invalid Record Length/),
    ])
    expect((await runSource(src, 'f', lake)).records).toBe(0)
    await writeFile(join(dir, 'c.json'), '[{"id":9}]')
    expect((await runSource(src, 'f', lake)).records).toBe(1)
  })

  it('says clearly when nothing matches', async () => {
    const lake = await scratchLake()
    await expect(runSource({ f: { kind: 'file', path: '/nowhere/*.csv' } }, 'f', lake)).rejects.toThrow(
      'source f: no file matches /nowhere/*.csv',
    )
  })
})

describe('file sources resume inside a file', () => {
  const pull = async (
    config: Record<string, unknown>,
    cursor: unknown,
    path: string,
  ): Promise<{ batches: { records: unknown[]; errors: number; cursor: unknown }[] }> => {
    const { configSchema } = await import('../../src/config/schema.js')
    const { createSource } = await import('../../src/sources/registry.js')
    const cfg = configSchema.parse({ sources: { f: { kind: 'file', path, ...config } } }).sources.f!
    const batches = []
    for await (const b of createSource('f', cfg).pull({
      cursor,
      signal: new AbortController().signal,
      state: { get: async () => undefined, put: async () => {} },
    }))
      batches.push({ records: [...b.records], errors: b.errors?.length ?? 0, cursor: b.cursor })
    return { batches }
  }

  it('every batch brings a cursor; from any of them the rest of the file comes, once', async () => {
    const dir = await tempDir('weir-resume-')
    const path = join(dir, 'e.ndjson')
    const lines = Array.from({ length: 25 }, (_, i) => (i === 7 ? '{cut' : JSON.stringify({ i })))
    await writeFile(path, `${lines.join('\n')}\n`)
    const all = await pull({ batchSize: 4 }, undefined, path)
    expect(all.batches.every((b) => b.cursor !== undefined)).toBe(true)
    const ids = (bs: typeof all.batches) =>
      bs.flatMap((b) => b.records.map((r) => (r as { data: { i: number } }).data.i))
    expect(ids(all.batches)).toHaveLength(24)
    for (const [k, b] of all.batches.entries()) {
      const rest = await pull({ batchSize: 4 }, b.cursor, path)
      expect([...ids(all.batches.slice(0, k + 1)), ...ids(rest.batches)]).toEqual(ids(all.batches))
      // The unreadable line is set aside once, by the batch that held it.
      const errs = all.batches.slice(0, k + 1).reduce((n, x) => n + x.errors, 0)
      expect(errs + rest.batches.reduce((n, x) => n + x.errors, 0)).toBe(1)
    }
    // A file that changed since is read again whole.
    const mid = all.batches[2]!.cursor
    await writeFile(path, `${lines.join('\n')}\n{"i":99}\n`)
    expect(ids((await pull({ batchSize: 4 }, mid, path)).batches)).toHaveLength(25)
  })
})

describe('file sources keep the file in progress first', () => {
  it('a new file that sorts before the half-read one does not make it start over', async () => {
    const { configSchema } = await import('../../src/config/schema.js')
    const { createSource } = await import('../../src/sources/registry.js')
    const dir = await tempDir('weir-order-')
    const write = (n: number, from: number) =>
      writeFile(
        join(dir, `events-${n}.ndjson`),
        `${Array.from({ length: 10 }, (_, i) => JSON.stringify({ id: from + i })).join('\n')}\n`,
      )
    await write(7, 70)
    const cfg = configSchema.parse({
      sources: { f: { kind: 'file', path: join(dir, 'events-*.ndjson'), batchSize: 4 } },
    }).sources.f!
    const pull = async (cursor: unknown) => {
      const out: { ids: number[]; cursor: unknown }[] = []
      for await (const b of createSource('f', cfg).pull({
        cursor,
        signal: new AbortController().signal,
        state: { get: async () => undefined, put: async () => {} },
      }))
        out.push({ ids: b.records.map((r) => (r.data as { id: number }).id), cursor: b.cursor })
      return out
    }
    const first = await pull(undefined)
    const half = first[0]!.cursor // events-7 read up to its 4th line
    await write(10, 100) // "events-10" sorts before "events-7"
    const rest = await pull(half)
    expect(rest.flatMap((b) => b.ids)).toEqual([
      74, 75, 76, 77, 78, 79, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109,
    ])
    // And from a cursor taken inside events-10, events-7 is done, not read again.
    const again = await pull(rest.find((b) => b.ids.includes(101))!.cursor)
    expect(again.flatMap((b) => b.ids).some((id) => id < 100)).toBe(false)
  })
})
