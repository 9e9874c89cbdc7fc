import { cp, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { configSchema } from '../../src/config/schema.js'
import { createEngine } from '../../src/engine/engine.js'
import { land } from '../../src/landing/landing.js'
import { openPipeline } from '../../src/pipeline/pipeline.js'
import { refine } from '../../src/refine/refine.js'
import { createStateStore } from '../../src/state/state.js'
import { createLocalStore } from '../../src/storage/local/local-store.js'
import { createEmbeddedStream } from '../../src/stream/embedded/embedded-stream.js'
import { json } from '../helpers/lake.js'
import { tempDir } from '../helpers/services.js'

export const tweet = (i: number, day: number, likes = i) => ({
  id: String(1590000000000000000n + BigInt(i)),
  author_id: String(100 + (i % 5)),
  text: `tweet ${i}`,
  lang: i % 3 ? 'en' : 'pt',
  created_at: `2026-11-${day}T${String(i % 24).padStart(2, '0')}:00:00Z`,
  public_metrics: { like_count: likes, retweet_count: i % 4, reply_count: 1, quote_count: 0 },
})
export const user = (i: number, description = `about ${i}`) => ({
  id: String(100 + i),
  username: `user_${i}`,
  name: `User ${i}`,
  description,
  verified: i % 2 === 0,
  created_at: '2020-01-01T00:00:00Z',
  public_metrics: { followers_count: i * 10, following_count: i, tweet_count: 50, listed_count: 0 },
})

/**
 * A project directory with the example models (or none), a lake, and `load(records)`: lands and
 * refines tweets and users into the trusted zone as the pipeline would.
 */
export async function modelProject(options: { examples?: boolean } = {}) {
  const dir = await tempDir('weir-models-')
  if (options.examples ?? true) {
    for (const f of ['models', 'snapshots', 'tests'])
      await cp(join('examples', f), join(dir, f), { recursive: true })
  }
  const lakeDir = join(dir, 'lake')
  const store = createLocalStore(lakeDir)
  const state = createStateStore(store)
  const stream = await createEmbeddedStream(join(dir, 'stream'))
  const engine = await createEngine({ threads: 2 })
  const load = async (records: { resource: string; data: unknown }[]) => {
    await stream.publish(
      'x',
      records.map((r) => json(r.data, r.resource)),
    )
    await land(stream, store, {
      topics: ['x'],
      state,
      table: () => ({
        maxRecords: 1000,
        maxBytes: 1e8,
        maxAgeMs: 6e4,
        path: 'raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}',
        eventTime: undefined,
      }),
    })
    await refine(store, engine, state, {
      tables: {
        'x.tweets': { eventTime: 'created_at', primaryKey: 'id' },
        'x.users': { primaryKey: 'id' },
      },
      stagingDir: join(dir, 'staging'),
    })
  }
  const write = async (path: string, text: string) => {
    await mkdir(join(dir, path, '..'), { recursive: true })
    await writeFile(join(dir, path), text)
  }
  const pipeline = () => openPipeline({ config: configSchema.parse({ lake: lakeDir }), file: undefined, dir })
  const close = async () => {
    await stream.close()
    await engine.close()
  }
  return { dir, lakeDir, store, load, write, pipeline, close }
}
