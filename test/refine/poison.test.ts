import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attachLake } from '../../src/catalog/views.js'
import { createEngine, type Engine } from '../../src/engine/engine.js'
import { land } from '../../src/landing/landing.js'
import { refine } from '../../src/refine/refine.js'
import { createStateStore } from '../../src/state/state.js'
import { scratchLake } from '../helpers/lake.js'
import { tempDir } from '../helpers/services.js'

let engine: Engine
beforeAll(async () => {
  engine = await createEngine({ threads: 2 })
})
afterAll(async () => engine.close())

const row = (id: number, extra = '') => `{"id":${id},"at":"2026-11-20T10:00:00Z"${extra}}`

async function setAside(root: string): Promise<Record<string, unknown>[]> {
  const dir = join(root, '_errors', 'refine')
  const out: Record<string, unknown>[] = []
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (!e.isFile()) continue
    for (const l of (await readFile(join(e.parentPath, e.name), 'utf8')).split('\n'))
      if (l) out.push(JSON.parse(l) as Record<string, unknown>)
  }
  return out
}

describe('refine isolates what DuckDB rejects, and the table goes on', () => {
  it('sets aside the bad lines of a raw file with their reasons, refines the rest, and later files too', async () => {
    const { store, stream, root } = await scratchLake()
    const state = createStateStore(store)
    const opts = { tables: { 'x.events': { eventTime: 'at' } }, stagingDir: await tempDir('weir-staging-') }
    // A landed file registers the raw table; the others are dropped in raw by hand (or by a tool).
    await stream.publish('x', [{ value: Buffer.from(row(1)), headers: { resource: 'events' } }])
    await land(stream, store, {
      topics: ['x'],
      state,
      table: () => ({
        maxRecords: 100,
        maxBytes: 1e7,
        maxAgeMs: 60_000,
        path: 'raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}',
        eventTime: 'at',
      }),
    })
    const folder = 'raw/x/json/events/2026/11/20'
    await store.put(
      `${folder}/dropped.ndjson`,
      Buffer.concat([
        Buffer.from(`${row(2)}\n${row(3, ',"a":1,"a":2')}\n${row(4)}\n`),
        Buffer.from('{"id":5,"at":"2026-11-20T10:00:00Z","s":"\xff\xfe"}\n', 'latin1'),
        Buffer.from(`${row(6)}\n{"id":7,\n`),
      ]),
    )
    // A gzip file cut in the middle: unreadable whole.
    await store.put(`${folder}/broken.ndjson.gz`, gzipSync(Buffer.from(`${row(8)}\n`)).subarray(0, 12))
    const results = await refine(store, engine, state, opts)
    expect(results[0]!.warnings.join(' ')).toMatch(/set aside/)
    const q = await createEngine()
    await attachLake(q, store)
    const ids = async () =>
      (await q.query('select id from trusted.x_events order by id')).rows.map((r) => Number(r.id))
    expect(await ids()).toEqual([1, 2, 4, 6])
    const bad = await setAside(root)
    const reasons = bad.map((b) => `${b._line}: ${b._reason}`)
    expect(reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^2: .*duplicate key "a"/),
        expect.stringMatching(/^4: not valid UTF-8/),
        expect.stringMatching(/^6: not JSON/),
        expect.stringMatching(/^0: the whole file: /),
      ]),
    )
    expect(bad).toHaveLength(4)
    // Nothing is tried again, and a new file refines as usual.
    expect((await refine(store, engine, state, opts))[0]).toMatchObject({ inputFiles: 0 })
    await store.put(`${folder}/later.ndjson`, `${row(9)}\n`)
    await refine(store, engine, state, opts)
    await attachLake(q, store)
    expect(await ids()).toEqual([1, 2, 4, 6, 9])
    await q.close()
  })
})
