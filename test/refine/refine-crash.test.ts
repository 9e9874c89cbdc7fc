import { cp } from 'node:fs/promises'
import { resolve } from 'node:path'
import { icebergRead } from 'icebird'
import { expect, it } from 'vitest'
import { getTable, tableFiles } from '../../src/catalog/catalog.js'
import { uriOf } from '../../src/catalog/iceberg/metadata.js'
import { keyOf } from '../../src/catalog/iceberg/read.js'
import { liveFiles, loadTable } from '../../src/catalog/iceberg/table.js'
import { attachLake } from '../../src/catalog/views.js'
import { createEngine } from '../../src/engine/engine.js'
import { land } from '../../src/landing/landing.js'
import { refine } from '../../src/refine/refine.js'
import { createStateStore } from '../../src/state/state.js'
import { createLocalStore } from '../../src/storage/local/local-store.js'
import { fetchLocalFiles } from '../helpers/file-fetch.js'
import { json, keys, scratchLake } from '../helpers/lake.js'
import { runKillable, tempDir } from '../helpers/services.js'

const WORKER = resolve('test/fixtures/workers/refine-crash.mjs')
const ROUNDS = 20

const run = async (lake: string, format: Format, killAfterMs?: number) =>
  runKillable(WORKER, [lake, await tempDir('weir-stage-'), format], killAfterMs, {}, 'ready')

type Format = 'parquet' | 'iceberg'

async function rows(lake: string) {
  const engine = await createEngine()
  await attachLake(engine, createLocalStore(lake))
  const r = (
    await engine.query('select id, public_metrics_like_count as likes, dt from trusted.x_tweets order by id')
  ).rows
  await engine.close()
  return r
}

for (const format of ['parquet', 'iceberg'] as const)
  it(`refine under kill -9 (${ROUNDS} times), ${format} tables: no partial Parquet, the ledger matches the outputs, the rows equal a clean run's`, async () => {
    // A raw zone of 60 files: 1,000 tweets over 2 days, each landed three times with growing likes.
    const { store, stream, root } = await scratchLake()
    const state = createStateStore(store)
    for (const round of [1, 2, 3]) {
      await stream.publish(
        'x',
        Array.from({ length: 1_000 }, (_, i) =>
          json(
            {
              id: String(i),
              created_at: `2026-11-${20 + (i % 2)}T10:00:00Z`,
              public_metrics: { like_count: i * 10 + round },
            },
            'tweets',
          ),
        ),
      )
    }
    const table = () => ({
      maxRecords: 50,
      maxBytes: 1e7,
      maxAgeMs: 6e4,
      path: 'raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}',
      eventTime: 'created_at',
    })
    await land(stream, store, { topics: ['x'], state, table })
    const clean = await tempDir('weir-clean-')
    await cp(root, clean, { recursive: true })

    // How long the whole work takes uninterrupted (on a copy), so the kills can fall all along it.
    const timing = await tempDir('weir-timing-')
    await cp(root, timing, { recursive: true })
    const whole = (await run(timing, format)).readyMs ?? 1000

    let kills = 0
    const seqs: number[] = []
    for (let round = 0; round < ROUNDS; round++) {
      // Each life is a random part of the work's time, so most rounds die with work still pending.
      const r = await run(root, format, Math.random() * (whole / 4))
      expect(['SIGKILL', 0], r.stderr).toContain(r.code)
      if (r.code === 'SIGKILL') kills++
      seqs.push((await state.get<{ seq: number }>('refine/x_tweets'))?.seq ?? 0)
    }
    // The kills fell at different points of the work: the ledger moved on between many of them.
    expect(new Set(seqs).size, seqs.join(',')).toBeGreaterThanOrEqual(4)
    // (Once the work is done, later rounds finish before their kill: several kills is what counts.)
    expect(kills).toBeGreaterThanOrEqual(5)
    const last = await run(root, format)
    expect(last.code, last.stderr).toBe(0)

    // The clean run, in one go.
    const cleanStore = createLocalStore(clean)
    const engine = await createEngine()
    await refine(cleanStore, engine, createStateStore(cleanStore), {
      tables: { 'x.tweets': { eventTime: 'created_at', primaryKey: 'id', format } },
      stagingDir: await tempDir('weir-stage-'),
    })
    await engine.close()

    const got = await rows(root)
    expect(got).toHaveLength(1_000)
    expect(got).toEqual(await rows(clean))
    expect(got.every((r) => Number(r.likes) % 10 === 3)).toBe(true) // the last copy of each tweet
    // The catalog lists exactly the Parquet files there are (an Iceberg table keeps replaced ones
    // and a crash's leftovers, for maintenance), each whole; the ledger every raw file.
    const entry = (await getTable(store, 'trusted', 'x_tweets'))!
    const listed = (await tableFiles(store, entry))!.sort()
    const parquet = (await keys(store, 'trusted/x/tweets/')).filter((k) => k.endsWith('.parquet'))
    if (format === 'parquet') expect(parquet).toEqual(listed)
    else {
      expect(parquet).toEqual(expect.arrayContaining(listed))
      // The entry names the current snapshot, and an Iceberg reader gets the same rows.
      expect(entry.files).toBeUndefined()
      const loaded = (await loadTable(store, 'trusted/x/tweets/'))!
      expect(entry.icebergSnapshot).toBe(loaded.metadata['current-snapshot-id'])
      const live = (await liveFiles(store, loaded.metadata)).map((f) => keyOf(store, f.path)).sort()
      expect(live).toEqual(listed)
      const restore = fetchLocalFiles()
      try {
        const read = (await icebergRead({ tableUrl: uriOf(store, 'trusted/x/tweets') })) as { id: unknown }[]
        expect(read.map((r) => String(r.id)).sort()).toEqual(got.map((r) => String(r.id)).sort())
      } finally {
        restore()
      }
    }
    const check = await createEngine()
    for (const f of listed) await check.query(`select count(*) from read_parquet('${root}/${f}')`)
    await check.close()
    const ledger = await state.get<{ files: Record<string, unknown> }>('refine/x_tweets')
    const rawFiles = (await keys(store, 'raw/')).filter((k) => k.endsWith('.ndjson'))
    expect(Object.keys(ledger!.files).sort()).toEqual(rawFiles.sort())
  }, 240_000)
