import { writeFile } from 'node:fs/promises'
import { icebergRead } from 'icebird'
import { describe, expect, it } from 'vitest'
import { uriOf } from '../../src/catalog/iceberg/metadata.js'
import { loadTable } from '../../src/catalog/iceberg/table.js'
import { createLocalStore } from '../../src/storage/local/local-store.js'
import { weir } from '../helpers/cli.js'
import { fetchLocalFiles } from '../helpers/file-fetch.js'
import { tempDir } from '../helpers/services.js'

const CONFIG = `lake: ./lake
sources:
  x: { kind: demo, dataset: x, count: 200 }
tables:
  x.tweets: { eventTime: created_at, format: iceberg, primaryKey: id }
`

/** The number a one-row, one-column CSV result holds. */
const single = (stdout: string) => Number(stdout.trim().split('\n').at(-1))

describe('weir with Iceberg tables, as a user runs it', () => {
  it('query --as-of reads a kept snapshot; maintain expires the others and says so; bad input is one line', async () => {
    const dir = await tempDir('weir-iceberg-cli-')
    await writeFile(`${dir}/weir.yaml`, CONFIG)
    expect((await weir(['run', '--once'], {}, dir)).code).toBe(0)
    const lake = createLocalStore(`${dir}/lake`)
    const first = (await loadTable(lake, 'trusted/x/tweets'))!.metadata['current-snapshot-id']
    // The demo sends the same tweets again: the dedupe commits an overwrite over the first snapshot.
    expect((await weir(['run', '--once'], {}, dir)).code).toBe(0)
    // A --once run ends with maintenance (nothing is past the hour's retention yet).
    const maintained = await weir(['runs', '--job', 'maintain'], {}, dir)
    expect(maintained.stdout.match(/^maintain\s+\S+\s+\S+\s+succeeded/gm)).toHaveLength(2)
    const count = ['query', 'select count(*) as n from trusted.x_tweets', '--format', 'csv']
    const now = single((await weir(count, {}, dir)).stdout)
    expect(now).toBeGreaterThan(0)
    const then = await weir([...count, '--as-of', String(first)], {}, dir)
    expect([then.code, then.stderr]).toEqual([0, ''])
    expect(single(then.stdout)).toBe(now)

    const bad = await weir([...count, '--as-of', 'yesterday-ish'], {}, dir)
    expect([bad.code, bad.stderr]).toEqual([
      1,
      'weir: --as-of yesterday-ish: expected a time (2026-12-01T10:00:00Z), a duration ago (10m) or a snapshot id\n',
    ])
    const before = await weir([...count, '--as-of', '2000-01-01'], {}, dir)
    expect([before.code, single(before.stdout)]).toEqual([0, 0])

    const kept = await weir(['maintain', '--retention', '0s'], {}, dir)
    expect(kept.code).toBe(0)
    expect(kept.stdout).toMatch(/x_tweets\s+\|?\s*[1-9]\d*\s+\|?\s*1\s/)
    const gone = await weir([...count, '--as-of', String(first)], {}, dir)
    expect([gone.code, gone.stderr]).toEqual([
      1,
      `weir: --as-of ${first}: no Iceberg table keeps a snapshot of that id (see weir catalog history)\n`,
    ])
    expect(single((await weir(count, {}, dir)).stdout)).toBe(now)
    const unknown = await weir(['maintain', 'nope'], {}, dir)
    expect([unknown.code, unknown.stderr]).toEqual([
      1,
      'weir: maintain: nope: no Iceberg table of that name (trusted or refined)\n',
    ])
  })

  it('catalog migrate converts a Hive-style table to Iceberg and back, its data files untouched', async () => {
    const dir = await tempDir('weir-iceberg-migrate-')
    const parquet = CONFIG.replace('format: iceberg', 'format: parquet')
    await writeFile(`${dir}/weir.yaml`, parquet)
    expect((await weir(['run', '--once'], {}, dir)).code).toBe(0)
    const lake = createLocalStore(`${dir}/lake`)
    const data = async () => {
      const out: string[] = []
      for await (const o of lake.list('trusted/x/tweets/'))
        if (o.key.endsWith('.parquet')) out.push(`${o.key} ${o.etag}`)
      return out.sort()
    }
    const before = await data()
    const count = ['query', 'select count(*) as n from trusted.x_tweets', '--format', 'csv']
    const n = single((await weir(count, {}, dir)).stdout)

    // The config says first: migrate converts what differs from it.
    const none = await weir(['catalog', 'migrate'], {}, dir)
    expect([none.code, none.stdout]).toEqual([
      0,
      '(every trusted table is in the format the config gives it: set tables.<source>.<resource>.format to convert one)\n',
    ])
    await writeFile(`${dir}/weir.yaml`, CONFIG)
    const up = await weir(['catalog', 'migrate'], {}, dir)
    expect(up.code).toBe(0)
    expect(up.stdout).toMatch(/x_tweets\s+parquet\s+iceberg\s+\d+\s+converted/)
    expect(up.stdout).toMatch(/x_tweets__entities_hashtags\s+parquet\s+iceberg/)
    expect(await data()).toEqual(before)
    const restore = fetchLocalFiles()
    try {
      const rows = (await icebergRead({ tableUrl: uriOf(lake, 'trusted/x/tweets') })) as object[]
      expect(rows.length).toBe(n)
    } finally {
      restore()
    }
    expect(single((await weir(count, {}, dir)).stdout)).toBe(n)
    expect((await weir(['run', '--once'], {}, dir)).code).toBe(0)
    expect(single((await weir(count, {}, dir)).stdout)).toBe(n)

    await writeFile(`${dir}/weir.yaml`, parquet)
    const down = await weir(['catalog', 'migrate', 'x_tweets'], {}, dir)
    expect(down.stdout).toMatch(/x_tweets\s+iceberg\s+parquet\s+\d+\s+converted/)
    expect(await loadTable(lake, 'trusted/x/tweets')).toBeUndefined()
    expect(single((await weir(count, {}, dir)).stdout)).toBe(n)
    const unknown = await weir(['catalog', 'migrate', 'nope'], {}, dir)
    expect([unknown.code, unknown.stderr]).toEqual([
      1,
      'weir: catalog migrate: nope: no trusted table of that name\n',
    ])
  })
})
