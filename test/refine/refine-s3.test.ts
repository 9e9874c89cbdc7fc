import { readdir, stat } from 'node:fs/promises'
import { icebergRead } from 'icebird'
import { afterAll, describe, expect, it } from 'vitest'
import { getTable, tableFiles } from '../../src/catalog/catalog.js'
import { uriOf } from '../../src/catalog/iceberg/metadata.js'
import { loadTable } from '../../src/catalog/iceberg/read.js'
import { attachLake } from '../../src/catalog/views.js'
import { createEngine } from '../../src/engine/engine.js'
import { defaultCacheDir } from '../../src/engine/localize.js'
import { land } from '../../src/landing/landing.js'
import { compact } from '../../src/refine/compact.js'
import { refine } from '../../src/refine/refine.js'
import { createStateStore } from '../../src/state/state.js'
import { createS3Store } from '../../src/storage/s3/s3-store.js'
import { createEmbeddedStream } from '../../src/stream/embedded/embedded-stream.js'
import { fetchLocalFiles } from '../helpers/file-fetch.js'
import { json } from '../helpers/lake.js'
import { s3Env, startS3, tempDir } from '../helpers/services.js'

const s3 = await startS3()
if (s3) Object.assign(process.env, s3Env(s3))
afterAll(() => s3?.stop())

async function filesUnder(dir: string): Promise<string[]> {
  if (!(await stat(dir).catch(() => undefined))) return []
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((d) => d.isFile())
    .map((d) => d.name)
}

/** A lake on s3rver with these tweets landed as raw files of `maxRecords`, and its state store. */
async function landed(prefix: string, tweets: readonly object[], maxRecords: number) {
  const store = await createS3Store({ bucket: s3!.bucket, prefix: `${prefix}-${Date.now()}` })
  const stream = await createEmbeddedStream(await tempDir('weir-stream-'))
  const state = createStateStore(store)
  await stream.publish(
    'x',
    tweets.map((t) => json(t, 'tweets')),
  )
  await land(stream, store, {
    topics: ['x'],
    state,
    table: () => ({
      maxRecords,
      maxBytes: 1e7,
      maxAgeMs: 6e4,
      path: 'raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}',
      eventTime: 'created_at',
    }),
  })
  await stream.close()
  return { store, state }
}

describe.skipIf(!s3)('refine on S3 (s3rver)', () => {
  it('streams raw files down and Parquet up batch by batch, leaving no temp file behind', async () => {
    const { store, state } = await landed(
      'refine',
      Array.from({ length: 300 }, (_, i) => ({
        id: String(i % 200),
        created_at: `2026-11-${20 + (i % 2)}T10:00:00Z`,
        public_metrics: { like_count: i },
      })),
      25,
    )
    const engine = await createEngine({ threads: 2 })
    const stagingDir = await tempDir('weir-staging-')
    const [r] = await refine(store, engine, state, {
      tables: { 'x.tweets': { eventTime: 'created_at', primaryKey: 'id' } },
      stagingDir,
      batchFiles: 3, // 12 raw files: 4 batches, each deduping against the partitions before it
    })
    expect(r).toMatchObject({ inputFiles: 12, errors: 0 })
    await compact(store, engine, { stagingDir, targetBytes: 128 * 1024 * 1024 })
    await engine.close()
    // Nothing stays on local disk: not in the stage, not in the cache of the lake's remote files.
    expect(await filesUnder(stagingDir)).toEqual([])
    expect((await filesUnder(defaultCacheDir(store.uri))).filter((f) => f.endsWith('.ndjson'))).toEqual([])

    const entry = (await getTable(store, 'trusted', 'x_tweets'))!
    expect(
      (await tableFiles(store, entry))?.every((k) => k.startsWith('trusted/x/tweets/dt=2026-11-2')),
    ).toBe(true)
    const q = await createEngine()
    await attachLake(q, store)
    const rows = await q.query(
      'select count(*) as n, count(distinct id) as ids, max(public_metrics_like_count) as top from trusted.x_tweets',
    )
    // One row per id, the last copy winning: ids 100..199 were landed twice, the second with like_count i+200.
    expect(rows.rows).toEqual([{ n: 200, ids: 200, top: 299 }])
    await q.close()
  })

  it('keeps Iceberg metadata on S3 that an Iceberg reader reads as Weir does', async () => {
    const { store, state } = await landed(
      'iceberg',
      Array.from({ length: 120 }, (_, i) => ({
        id: String(i % 80),
        created_at: `2026-11-${20 + (i % 2)}T10:00:00Z`,
      })),
      20,
    )
    const engine = await createEngine({ threads: 2 })
    await refine(store, engine, state, {
      tables: { 'x.tweets': { eventTime: 'created_at', primaryKey: 'id', format: 'iceberg' } },
      stagingDir: await tempDir('weir-staging-'),
      batchFiles: 2, // 6 raw files: 3 commits, the later ones rewriting partitions
    })
    await engine.close()
    const { metadata } = (await loadTable(store, 'trusted/x/tweets/'))!
    expect(metadata.location).toBe(`${store.uri}/trusted/x/tweets/`)
    expect(store.uri).toMatch(/^s3:\/\//)
    const restore = fetchLocalFiles(s3!.endpoint)
    try {
      const rows = (await icebergRead({ tableUrl: uriOf(store, 'trusted/x/tweets') })) as { id: string }[]
      expect(rows.map((r) => r.id).sort()).toEqual(Array.from({ length: 80 }, (_, i) => String(i)).sort())
    } finally {
      restore()
    }
  })
})
