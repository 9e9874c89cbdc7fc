import { cp, readFile, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attachLake } from '../../src/catalog/views.js'
import { createEngine, type Engine } from '../../src/engine/engine.js'
import { land } from '../../src/landing/landing.js'
import { type RefineOptions, refine } from '../../src/refine/refine.js'
import { createStateStore } from '../../src/state/state.js'
import { createLocalStore } from '../../src/storage/local/local-store.js'
import type { ObjectStore } from '../../src/storage/storage.js'
import { keys, scratchLake } from '../helpers/lake.js'
import { tempDir } from '../helpers/services.js'

let engine: Engine
beforeAll(async () => {
  engine = await createEngine({ threads: 2 })
})
afterAll(async () => engine.close())

// No primary key: nothing dedupes, so a row added twice stays twice.
const opts = async (): Promise<RefineOptions> => ({
  tables: { 'x.events': { eventTime: 'at' } },
  stagingDir: await tempDir('weir-staging-'),
})
const event = (id: number) => ({
  value: Buffer.from(JSON.stringify({ id, at: `2026-11-${18 + (id % 3)}T10:00:00Z`, v: `value ${id}` })),
  headers: { resource: 'events' },
})

/** The table's ids, as trusted has them, sorted (duplicates kept). */
async function trustedIds(store: ObjectStore): Promise<number[]> {
  const q = await createEngine()
  await attachLake(q, store)
  const { rows } = await q.query('select id from trusted.x_events order by id')
  await q.close()
  return rows.map((r) => Number(r.id))
}

/** The ids every raw file holds now, read straight off the files: what a clean refine would give. */
async function rawIds(root: string, store: ObjectStore): Promise<number[]> {
  const out: number[] = []
  for (const k of await keys(store, 'raw/x/')) {
    if (!k.endsWith('.ndjson') || k.split('/').at(-1)!.startsWith('_')) continue
    for (const line of (await readFile(join(root, k), 'utf8')).split('\n'))
      if (line) out.push((JSON.parse(line) as { id: number }).id)
  }
  return out.sort((a, b) => a - b)
}

describe('refine of raw files that changed after they were refined', () => {
  it('an edited, a touched and a copied raw zone each refine to what a clean refine of it gives', async () => {
    const { store, stream, root } = await scratchLake()
    const state = createStateStore(store)
    const o = await opts()
    const landing = {
      topics: ['x'],
      state,
      table: () => ({
        maxRecords: 50,
        maxBytes: 10_000_000,
        maxAgeMs: 60_000,
        path: 'raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}',
        eventTime: 'at',
      }),
    }
    await stream.publish(
      'x',
      Array.from({ length: 300 }, (_, i) => event(i + 1)),
    )
    await land(stream, store, landing)
    await refine(store, engine, state, o)
    expect(await trustedIds(store)).toEqual(await rawIds(root, store))
    const files = (await keys(store, 'raw/x/')).filter((k) => k.endsWith('.ndjson') && !k.includes('/_'))
    expect(files.length).toBeGreaterThan(3)

    // Edited: one line deleted from a raw file.
    const edited = join(root, files[1]!)
    const lines = (await readFile(edited, 'utf8')).split('\n').filter(Boolean)
    await writeFile(edited, `${lines.slice(1).join('\n')}\n`)
    const [r1] = await refine(store, engine, state, o)
    expect(r1!.changed).toBe(1)
    expect(await trustedIds(store)).toEqual(await rawIds(root, store))

    // Touched: same bytes, a new time.
    const later = new Date(Date.now() + 60_000)
    await utimes(join(root, files[2]!), later, later)
    await refine(store, engine, state, o)
    expect(await trustedIds(store)).toEqual(await rawIds(root, store))

    // A copied lake (new times on every file) refines to the same table.
    const copy = await tempDir('weir-copy-')
    await cp(root, copy, { recursive: true, preserveTimestamps: false })
    const copied = createLocalStore(copy)
    await refine(copied, engine, createStateStore(copied), o)
    expect(await trustedIds(copied)).toEqual(await rawIds(root, store))
    expect((await trustedIds(copied)).length).toBe(299)
  })

  it('keeps the old rows, and says how to rebuild, when the partition needs raw files that are gone', async () => {
    const { store, stream, root } = await scratchLake()
    const state = createStateStore(store)
    const o = await opts()
    await stream.publish('x', [event(3), event(6)])
    await land(stream, store, {
      topics: ['x'],
      state,
      table: () => ({
        maxRecords: 1,
        maxBytes: 10_000_000,
        maxAgeMs: 60_000,
        path: 'raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}',
        eventTime: 'at',
      }),
    })
    await refine(store, engine, state, o)
    const [a, b] = (await keys(store, 'raw/x/')).filter((k) => k.endsWith('.ndjson') && !k.includes('/_'))
    await store.delete(a!)
    await writeFile(join(root, b!), `${JSON.stringify({ id: 6, at: '2026-11-18T10:00:00Z', v: 'fixed' })}\n`)
    const [r] = await refine(store, engine, state, o)
    expect(r!.warnings.join(' ')).toMatch(/cannot be rebuilt: .*no longer in the lake.*old rows are kept/)
    expect(await trustedIds(store)).toEqual([3, 6])
  })
})
