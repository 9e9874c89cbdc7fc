import { stat } from 'node:fs/promises'
import { icebergRead } from 'icebird'
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest'
import type { Column } from '../../src/catalog/catalog.js'
import { getTable } from '../../src/catalog/catalog.js'
import type { AsOf } from '../../src/catalog/iceberg/live.js'
import { maintainTable } from '../../src/catalog/iceberg/maintain.js'
import { readContainer } from '../../src/catalog/iceberg/manifest.js'
import { current, uriOf } from '../../src/catalog/iceberg/metadata.js'
import { keyOf } from '../../src/catalog/iceberg/read.js'
import { fieldIdsOption, type IcebergType } from '../../src/catalog/iceberg/schema.js'
import { commit, liveFiles, loadTable, manifestsOf } from '../../src/catalog/iceberg/table.js'
import { createEngine, type Engine, sqlString } from '../../src/engine/engine.js'
import { createLocalStore } from '../../src/storage/local/local-store.js'
import type { ObjectStore } from '../../src/storage/storage.js'
import { fetchLocalFiles } from '../helpers/file-fetch.js'
import { tempDir } from '../helpers/services.js'

const LOCATION = 'trusted/x/tweets'
const BASE: Column[] = [
  { name: 'id', type: 'BIGINT' },
  { name: 'text', type: 'VARCHAR' },
  { name: 'metrics', type: 'STRUCT(likes INTEGER, tags VARCHAR[])' },
  { name: 'dt', type: 'DATE' },
]

let engine: Engine
let store: ObjectStore
let root: string
let restore: () => void
beforeAll(async () => {
  root = await tempDir('weir-iceberg-')
  store = createLocalStore(root)
  engine = await createEngine()
  restore = fetchLocalFiles()
})
afterAll(async () => {
  restore()
  await engine.close()
})

let n = 0
/** Writes rows as a Parquet data file with the table's field ids, as refine will, and describes it. */
async function dataFile(select: string, day: string, location = LOCATION) {
  const m = (await loadTable(store, location))?.metadata
  const key = `${location}/data/dt=${day}/part-${n++}.parquet`
  const path = store.localPath!(key)
  await import('node:fs/promises').then((fs) =>
    fs.mkdir(path.slice(0, path.lastIndexOf('/')), { recursive: true }),
  )
  const schema = m && current(m).schema
  await engine.run(
    `COPY (${select}) TO ${sqlString(path)} (FORMAT parquet${
      schema
        ? `, FIELD_IDS ${fieldIdsOption(schema)}, KV_METADATA {'iceberg.schema': ${sqlString(JSON.stringify(schema))}}`
        : ''
    })`,
  )
  const rows = Number((await engine.query(`SELECT count(*) AS n FROM ${sqlString(path)}`)).rows[0]!.n)
  const days = Math.round(Date.parse(`${day}T00:00:00Z`) / 86_400_000)
  return {
    path: uriOf(store, key),
    recordCount: rows,
    sizeBytes: (await stat(path)).size,
    partition: { dt: days },
  }
}

/** Rows as both readers give them, comparable: sorted, bigints as numbers, dates as days. */
const norm = (rows: readonly Record<string, unknown>[]) =>
  rows
    .map((r) =>
      // A Date has become text before a replacer sees it: a day is its first ten characters.
      JSON.stringify(r, (_, v) =>
        v === undefined
          ? null
          : typeof v === 'bigint'
            ? Number(v)
            : typeof v === 'string' && /^\d{4}-\d\d-\d\dT00:00:00\.000Z$/.test(v)
              ? v.slice(0, 10)
              : v,
      ),
    )
    .sort()

async function viaDuckDb() {
  const m = (await loadTable(store, LOCATION))!.metadata
  const files = (await liveFiles(store, m)).map((f) => sqlString(new URL(f.path).pathname))
  const cols = current(m).schema.fields.map((f) => `"${f.name}"`)
  const { rows } = await engine.query(
    `SELECT ${cols.join(', ')} FROM read_parquet([${files.join(', ')}], union_by_name = true)`,
  )
  return norm(rows.map((r) => ({ ...r, dt: typeof r.dt === 'string' ? r.dt.slice(0, 10) : r.dt })))
}

async function viaIcebird() {
  const rows = (await icebergRead({ tableUrl: uriOf(store, LOCATION) })) as Record<string, unknown>[]
  return norm(
    rows.map((r) => ({
      ...r,
      dt: typeof r.dt === 'number' ? new Date(r.dt * 86_400_000) : r.dt,
    })),
  )
}

/**
 * Every live file of a table carries the field ids of the table's schema: each id in a footer is
 * the schema's id for that name (nested fields too), and every column but the partition has one.
 */
async function expectFieldIds(lake: ObjectStore, location: string) {
  const m = (await loadTable(lake, location))!.metadata
  const names = new Map<number, string>()
  const walk = (t: IcebergType) => {
    if (typeof t === 'string') return
    if (t.type === 'struct') {
      for (const f of t.fields) {
        names.set(f.id, f.name)
        walk(f.type)
      }
    } else if (t.type === 'list') {
      names.set(t['element-id'], 'element')
      walk(t.element)
    } else {
      names.set(t['key-id'], 'key')
      names.set(t['value-id'], 'value')
      walk(t.key)
      walk(t.value)
    }
  }
  const { schema } = current(m)
  walk(schema)
  const files = await liveFiles(lake, m)
  expect(files.length).toBeGreaterThan(0)
  for (const f of files) {
    const { rows } = await engine.query(
      `SELECT name, field_id FROM parquet_schema(${sqlString(new URL(f.path).pathname)}) WHERE field_id IS NOT NULL`,
    )
    for (const r of rows) expect([r.field_id, names.get(Number(r.field_id))]).toEqual([r.field_id, r.name])
    const top = new Set(rows.map((r) => Number(r.field_id)))
    // Every column, the partition's `dt` too: readers that do not fill it from the manifest get it.
    for (const c of schema.fields) expect([c.name, top.has(c.id)]).toEqual([c.name, true])
  }
}

/** A pipeline of its own over a fresh lake, and that lake's store, from the config's other sections. */
async function pipeline(prefix: string, sections: Record<string, unknown>) {
  const { configSchema } = await import('../../src/config/schema.js')
  const { openPipeline } = await import('../../src/pipeline/pipeline.js')
  const dir = await tempDir(prefix)
  const config = configSchema.parse({ lake: `${dir}/lake`, ...sections })
  const p = await openPipeline({ config, file: undefined, dir })
  return { p, lake: createLocalStore(config.lake) }
}

describe('Iceberg tables', () => {
  it('an append is read the same by icebird and by DuckDB over the live files', async () => {
    // The first commit makes the table; its files carry the ids it gives, so the table comes first.
    await commit(store, LOCATION, {
      operation: 'append',
      add: [],
      remove: [],
      columns: BASE,
      partitionBy: 'dt',
    })
    const a = await dataFile(
      `SELECT i::BIGINT AS id, 'tweet ' || i AS text, {'likes': i::INTEGER, 'tags': ['t' || (i % 3)]} AS metrics, DATE '2026-11-20' AS dt FROM range(50) t(i)`,
      '2026-11-20',
    )
    const b = await dataFile(
      `SELECT (100 + i)::BIGINT AS id, 'later ' || i AS text, {'likes': NULL::INTEGER, 'tags': []::VARCHAR[]} AS metrics, DATE '2026-11-21' AS dt FROM range(30) t(i)`,
      '2026-11-21',
    )
    await commit(store, LOCATION, { operation: 'append', add: [a, b], remove: [], columns: BASE })
    const duck = await viaDuckDb()
    expect(duck).toHaveLength(80)
    expect(await viaIcebird()).toEqual(duck)
  })

  it('an overwrite replaces files atomically: readers see the new set only', async () => {
    const m = (await loadTable(store, LOCATION))!.metadata
    const [old] = (await liveFiles(store, m)).filter((f) => f.partition.dt === 20_777)
    // The dedupe of one partition: its rows rewritten without ids 0-9.
    const replacement = await dataFile(
      `SELECT i::BIGINT AS id, 'tweet ' || i AS text, {'likes': i::INTEGER, 'tags': ['t' || (i % 3)]} AS metrics, DATE '2026-11-20' AS dt FROM range(10, 50) t(i)`,
      '2026-11-20',
    )
    await commit(store, LOCATION, {
      operation: 'overwrite',
      add: [replacement],
      remove: [old!.path],
      columns: BASE,
    })
    const duck = await viaDuckDb()
    expect(duck).toHaveLength(70)
    expect(await viaIcebird()).toEqual(duck)
    // The snapshot before still reads as it was (time travel).
    const now = (await loadTable(store, LOCATION))!.metadata
    const before = now.snapshots.at(-2)!['snapshot-id']
    expect((await liveFiles(store, now, before)).reduce((s, f) => s + f.recordCount, 0)).toBe(80)
  })

  it('a column whose type cannot be promoted (a model rebuilt) gets a new id; a promotion keeps its id', async () => {
    const { icebergSchema } = await import('../../src/catalog/iceberg/schema.js')
    const before = icebergSchema(
      [
        { name: 'n', type: 'INTEGER' },
        { name: 'x', type: 'BIGINT' },
        { name: 's', type: 'STRUCT(a INTEGER)' },
      ],
      0,
      undefined,
      0,
    )
    const after = icebergSchema(
      [
        { name: 'n', type: 'BIGINT' },
        { name: 'x', type: 'DOUBLE' },
        { name: 's', type: 'STRUCT(a VARCHAR)' },
      ],
      1,
      before.schema,
      before.lastColumnId,
    )
    const id = (sch: typeof before.schema, name: string) => sch.fields.find((f) => f.name === name)!.id
    expect(id(after.schema, 'n')).toBe(id(before.schema, 'n'))
    expect(id(after.schema, 'x')).toBeGreaterThan(before.lastColumnId)
    const inner = (sch: typeof before.schema) =>
      (sch.fields.find((f) => f.name === 's')!.type as unknown as { fields: { id: number }[] }).fields[0]!.id
    expect(inner(after.schema)).toBeGreaterThan(before.lastColumnId)
    expect(after.lastColumnId).toBe(before.lastColumnId + 2)
  })

  it('a new column gets a new field id; files written before read it as null', async () => {
    const columns: Column[] = [...BASE, { name: 'lang', type: 'VARCHAR' }]
    await commit(store, LOCATION, { operation: 'append', add: [], remove: [], columns })
    const m = (await loadTable(store, LOCATION))!.metadata
    const ids = current(m).schema.fields.map((f) => [f.name, f.id])
    expect(ids.slice(0, 4)).toEqual(
      current({ ...m, 'current-schema-id': 0 }).schema.fields.map((f) => [f.name, f.id]),
    )
    expect(ids.at(-1)![1]).toBe(m['last-column-id'])
    const c = await dataFile(
      `SELECT 500::BIGINT AS id, 'hola' AS text, {'likes': 1, 'tags': ['x']} AS metrics, DATE '2026-11-22' AS dt, 'es' AS lang`,
      '2026-11-22',
    )
    await commit(store, LOCATION, { operation: 'append', add: [c], remove: [], columns })
    const rows = (await icebergRead({ tableUrl: uriOf(store, LOCATION) })) as Record<string, unknown>[]
    expect(rows).toHaveLength(71)
    expect(rows.filter((r) => r.lang === 'es')).toHaveLength(1)
    expect(rows.filter((r) => r.lang === null || r.lang === undefined)).toHaveLength(70)
  })

  it("writes manifests in the spec's Avro schemas, field ids included, and field ids in Parquet footers", async () => {
    const m = (await loadTable(store, LOCATION))!.metadata
    const [mf] = await manifestsOf(store, m)
    const list = await readContainer(
      (await store.getBytes(new URL(m.snapshots.at(-1)!['manifest-list']).pathname.slice(root.length + 1)))!,
    )
    const listSchema = JSON.parse(list.metadata['avro.schema']!)
    expect(
      Object.fromEntries(
        listSchema.fields.map((f: { name: string; 'field-id': number }) => [f.name, f['field-id']]),
      ),
    ).toMatchObject({
      manifest_path: 500,
      manifest_length: 501,
      partition_spec_id: 502,
      content: 517,
      sequence_number: 515,
      min_sequence_number: 516,
      added_snapshot_id: 503,
      partitions: 507,
    })
    // Each manifest's partition summary bounds the days of its files (4-byte little-endian days).
    type Summary = { contains_null: boolean; lower_bound: Uint8Array | null; upper_bound: Uint8Array | null }
    const records = list.records as { manifest_path: string; partitions: Summary[] | null }[]
    const days = (b: Uint8Array | null) => Buffer.from(b!).readInt32LE(0)
    const { entriesOf } = await import('../../src/catalog/iceberg/read.js')
    const seen: number[] = []
    for (const mf of await manifestsOf(store, m)) {
      const [sum] = records.find((r) => r.manifest_path === mf.path)!.partitions!
      for (const e of await entriesOf(store, mf)) {
        const dt = e.file.partition.dt as number
        seen.push(dt)
        expect(dt).toBeGreaterThanOrEqual(days(sum!.lower_bound))
        expect(dt).toBeLessThanOrEqual(days(sum!.upper_bound))
      }
      expect(sum!.contains_null).toBe(false)
    }
    expect(Math.min(...seen)).toBe(Date.parse('2026-11-20') / 86_400_000)
    const manifest = await readContainer(
      (await store.getBytes(new URL(mf!.path).pathname.slice(root.length + 1)))!,
    )
    expect(manifest.metadata).toMatchObject({
      'format-version': '2',
      content: 'data',
      'partition-spec-id': '0',
    })
    const dt = current(m).schema.fields.find((f) => f.name === 'dt')!.id
    expect(JSON.parse(manifest.metadata['partition-spec']!)).toEqual([
      { name: 'dt', 'source-id': dt, 'field-id': 1000, transform: 'identity' },
    ])
    const entry = JSON.parse(manifest.metadata['avro.schema']!)
    const ids = Object.fromEntries(
      entry.fields.map((f: { name: string; 'field-id': number }) => [f.name, f['field-id']]),
    )
    expect(ids).toMatchObject({ status: 0, snapshot_id: 1, sequence_number: 3, data_file: 2 })
    const dataFields = entry.fields.find((f: { name: string }) => f.name === 'data_file').type.fields
    expect(
      Object.fromEntries(
        dataFields.map((f: { name: string; 'field-id': number }) => [f.name, f['field-id']]),
      ),
    ).toMatchObject({
      content: 134,
      file_path: 100,
      file_format: 101,
      partition: 102,
      record_count: 103,
      file_size_in_bytes: 104,
    })
    const file = (await liveFiles(store, m)).at(-1)!
    const { rows } = await engine.query(
      `SELECT name, field_id FROM parquet_schema(${sqlString(new URL(file.path).pathname)}) WHERE field_id IS NOT NULL`,
    )
    const schema = current(m).schema
    for (const f of schema.fields) expect(rows).toContainEqual({ name: f.name, field_id: f.id })
  })

  it('two writers at once: both commits land, one built again on the other', async () => {
    const columns: Column[] = [...BASE, { name: 'lang', type: 'VARCHAR' }]
    const before = (await loadTable(store, LOCATION))!
    const d1 = await dataFile(
      `SELECT 900::BIGINT AS id, 'a' AS text, NULL::STRUCT(likes INTEGER, tags VARCHAR[]) AS metrics, DATE '2026-11-23' AS dt, 'en' AS lang`,
      '2026-11-23',
    )
    const d2 = await dataFile(
      `SELECT 901::BIGINT AS id, 'b' AS text, NULL::STRUCT(likes INTEGER, tags VARCHAR[]) AS metrics, DATE '2026-11-23' AS dt, 'en' AS lang`,
      '2026-11-23',
    )
    await Promise.all([
      commit(store, LOCATION, { operation: 'append', add: [d1], remove: [], columns }),
      commit(store, LOCATION, { operation: 'append', add: [d2], remove: [], columns }),
    ])
    const after = (await loadTable(store, LOCATION))!
    expect(after.version).toBe(before.version + 2)
    expect(await viaIcebird()).toHaveLength(73)
    expect(await viaIcebird()).toEqual(await viaDuckDb())
  })

  it('refuses to remove a file the table no longer has, and a failed commit changes nothing', async () => {
    const columns: Column[] = [...BASE, { name: 'lang', type: 'VARCHAR' }]
    const before = (await loadTable(store, LOCATION))!
    const gone = uriOf(store, `${LOCATION}/data/dt=2026-11-20/part-0.parquet`) // replaced by the overwrite
    const err = await commit(store, LOCATION, {
      operation: 'overwrite',
      add: [],
      remove: [gone],
      columns,
    }).catch((e) => e)
    expect(err).toMatchObject({ code: 'ICEBERG_COMMIT' })
    expect(String(err.message)).toContain('not in the table')
    expect((await loadTable(store, LOCATION))!.version).toBe(before.version)
    expect(await viaIcebird()).toHaveLength(73)
  })
})

describe('Iceberg commits as a table grows', () => {
  it('merges manifests past 32, so a commit reads a bounded number of them; rows stay exact', async () => {
    const at = 'trusted/x/many'
    const columns: Column[] = [
      { name: 'id', type: 'BIGINT' },
      { name: 'dt', type: 'DATE' },
    ]
    // Snapshots expire at once: the table property Weir's retention setting becomes.
    const properties = () => ({ 'history.expire.max-snapshot-age-ms': '0' })
    const base = { remove: [], columns, partitionBy: 'dt', properties } as const
    await commit(store, at, { ...base, operation: 'append', add: [] })
    const files = []
    for (let i = 0; i < 70; i++) {
      const f = await dataFile(`SELECT ${i}::BIGINT AS id, DATE '2026-11-20' AS dt`, '2026-11-20', at)
      files.push(f)
      await commit(store, at, { ...base, operation: 'append', add: [f] })
      const m = (await loadTable(store, at))!.metadata
      expect((await manifestsOf(store, m)).length).toBeLessThanOrEqual(33)
    }
    // A removal after merges finds its file, and the merged manifests keep the rest.
    await commit(store, at, { ...base, operation: 'delete', add: [], remove: [files[3]!.path] })
    const m = (await loadTable(store, at))!.metadata
    expect(m.snapshots).toHaveLength(1)
    const rows = (await icebergRead({ tableUrl: uriOf(store, at) })) as { id: bigint }[]
    expect(rows.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 70 }, (_, i) => i).filter((i) => i !== 3),
    )
  })
})

describe("Iceberg commits of a table's files", () => {
  it('takes a file written again under its name (a batch run again after a crash) as replaced, told or not', async () => {
    const { commitFiles, mirrorIceberg } = await import('../../src/catalog/iceberg/mirror.js')
    const location = 'trusted/x/rerun/'
    const key = `${location}dt=2026-11-20/part-1.parquet`
    const write = async (n: number) => {
      const path = store.localPath!(key)
      await import('node:fs/promises').then((fs) =>
        fs.mkdir(path.slice(0, path.lastIndexOf('/')), { recursive: true }),
      )
      await engine.run(
        `COPY (SELECT i::BIGINT AS id FROM range(${n}) t(i)) TO ${sqlString(path)} (FORMAT parquet)`,
      )
    }
    const entry = {
      zone: 'trusted',
      name: 'x_rerun',
      location,
      format: 'parquet',
      partitioning: ['dt'],
      columns: [{ name: 'id', type: 'BIGINT' }],
      files: [key],
      iceberg: true,
      updatedAt: new Date().toISOString(),
    } as const
    const rows = async () =>
      ((await icebergRead({ tableUrl: uriOf(store, location.slice(0, -1)) })) as object[]).length
    const { getTable } = await import('../../src/catalog/catalog.js')
    // An entry an older Weir wrote, with its own list: made a snapshot, and the list dropped.
    await write(10)
    await mirrorIceberg(store, engine, entry)
    expect(await rows()).toBe(10)
    const mirrored = (await getTable(store, 'trusted', 'x_rerun'))!
    expect(mirrored.files).toBeUndefined()
    expect(mirrored.icebergMetadata).toBe(`${location}metadata/v1.metadata.json`)
    // Told: the change wrote the file again.
    await write(25)
    await commitFiles(store, engine, mirrored, { written: [key] })
    expect(await rows()).toBe(25)
    // Not told (an older entry's list, catching up after a crash): its size gives it away.
    await write(40)
    await mirrorIceberg(store, engine, entry)
    expect(await rows()).toBe(40)
    expect((await getTable(store, 'trusted', 'x_rerun'))!.icebergMetadata).toBe(
      `${location}metadata/v3.metadata.json`,
    )
  })
})

describe('a pipeline with an Iceberg trusted table', () => {
  it('keeps the Iceberg snapshot equal to what Weir reads, through appends and a dedupe overwrite', async () => {
    const { p, lake } = await pipeline('weir-iceberg-pipeline-', {
      sources: { x: { kind: 'demo', dataset: 'x', count: 300 } },
      tables: { 'x.tweets': { eventTime: 'created_at', primaryKey: 'id', format: 'iceberg' } },
    })
    const icebergIds = async () => {
      const rows = (await icebergRead({ tableUrl: uriOf(lake, 'trusted/x/tweets') })) as { id: unknown }[]
      return rows.map((r) => String(r.id)).sort()
    }
    const weirIds = async () =>
      (await p.query('SELECT id FROM trusted.x_tweets')).rows.map((r) => String(r.id)).sort()
    // Whole rows, `dt` included: times as epoch milliseconds (a DATE as its midnight UTC).
    const text = (v: unknown): string =>
      v instanceof Date
        ? String(v.getTime())
        : typeof v === 'object' && v !== null
          ? JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? String(x) : x))
          : String(v)
    const rowsOf = (rows: readonly Record<string, unknown>[]) =>
      rows.map((r) => [r.id, r.text, r.created_at, r.dt].map(text).join('|')).sort()
    const sameRows = async () => {
      const read = (await icebergRead({ tableUrl: uriOf(lake, 'trusted/x/tweets') })) as Record<
        string,
        unknown
      >[]
      const weir = await p.query(
        'SELECT id, text, epoch_ms(created_at) AS created_at, epoch_ms(CAST(dt AS TIMESTAMP)) AS dt FROM trusted.x_tweets',
      )
      expect(read.length).toBe(weir.rows.length)
      expect(read.every((r) => r.dt instanceof Date)).toBe(true)
      expect(rowsOf(read)).toEqual(rowsOf(weir.rows))
    }
    try {
      await p.ingest()
      await p.land()
      await p.refine()
      await sameRows()
      const first = await weirIds()
      expect(first.length).toBeGreaterThan(0)
      expect(await icebergIds()).toEqual(first)
      // The demo source makes the same tweets again: refine dedupes them by id, rewriting partitions.
      await p.ingest()
      await p.land()
      await p.refine()
      expect(await weirIds()).toEqual(first)
      expect(await icebergIds()).toEqual(first)
      await sameRows()
      const { metadata } = (await loadTable(lake, 'trusted/x/tweets'))!
      // The snapshot before the dedupe is kept for the table's retention (1h by default).
      expect(metadata.snapshots.length).toBeGreaterThan(1)
      expect(metadata.snapshots.at(-1)!.summary.operation).toBe('overwrite')
      expect(metadata.properties['history.expire.max-snapshot-age-ms']).toBe('3600000')
      expect(metadata.properties['schema.name-mapping.default']).toContain('"names":["id"]')
      await expectFieldIds(lake, 'trusted/x/tweets')
    } finally {
      await p.close()
    }
  })

  it('commits a compaction as a replace: the same rows in fewer files', async () => {
    const { compact } = await import('../../src/refine/compact.js')
    // No key, small raw files and small batches: every batch appends a file to its partitions.
    const { p, lake } = await pipeline('weir-iceberg-compact-', {
      engine: { refineBatch: '4KB' },
      landing: { maxRecords: 20 },
      sources: { w: { kind: 'demo', dataset: 'weather', count: 120 } },
      tables: { 'w.realtime': { eventTime: 'data.time', format: 'iceberg' } },
    })
    const rows = async () =>
      ((await icebergRead({ tableUrl: uriOf(lake, 'trusted/w/realtime') })) as object[]).length
    try {
      await p.ingest()
      await p.land()
      await p.refine()
      expect(await rows()).toBe(120)
      const [done] = await compact(lake, await p.engine(), { stagingDir: await tempDir('weir-compact-') })
      expect(done!.filesAfter).toBeLessThan(done!.filesBefore)
      expect(await rows()).toBe(120)
      let { metadata } = (await loadTable(lake, 'trusted/w/realtime'))!
      expect(metadata.snapshots.at(-1)!.summary.operation).toBe('replace')
      await expectFieldIds(lake, 'trusted/w/realtime')
      expect((await liveFiles(lake, metadata)).length).toBe(done!.filesAfter)
      // Time travel: the snapshot before the compaction still reads, from the files it replaced.
      const before = metadata.snapshots.at(-2)!['snapshot-id']
      const count = async (asOf?: AsOf) =>
        Number((await p.query('SELECT count(*) AS n FROM trusted.w_realtime', { asOf })).rows[0]!.n)
      expect(await count({ snapshot: before })).toBe(120)
      expect(await count({ at: metadata.snapshots[0]!['timestamp-ms'] - 1 })).toBe(0)
      const parquet = async () => {
        const found: string[] = []
        for await (const o of lake.list('trusted/w/realtime/'))
          if (o.key.endsWith('.parquet')) found.push(o.key)
        return found.sort()
      }
      expect((await parquet()).length).toBeGreaterThan(done!.filesBefore)
      // Maintenance with no retention: every snapshot but the current expires, and what none kept uses goes.
      const entry = (await getTable(lake, 'trusted', 'w_realtime'))!
      const kept = await maintainTable(lake, entry, { retentionMs: 0 })
      expect(kept).toMatchObject({ snapshots: 1, expired: metadata.snapshots.length - 1 })
      expect(kept.deleted).toBeGreaterThan(done!.filesBefore - done!.filesAfter)
      metadata = (await loadTable(lake, 'trusted/w/realtime'))!.metadata
      expect(await parquet()).toEqual(
        (await liveFiles(lake, metadata)).map((f) => keyOf(lake, f.path)).sort(),
      )
      expect(await rows()).toBe(120)
      expect(await count()).toBe(120)
      await expect(count({ snapshot: before })).rejects.toThrow(
        /no Iceberg table keeps a snapshot of that id/,
      )
      const left: string[] = []
      for await (const o of lake.list('trusted/w/realtime/metadata/'))
        left.push(o.key.slice(o.key.lastIndexOf('/') + 1))
      const manifests = (await manifestsOf(lake, metadata)).length
      expect(left.filter((k) => k.endsWith('.metadata.json'))).toHaveLength(
        metadata['metadata-log'].length + 1,
      )
      expect(left.filter((k) => k.startsWith('snap-'))).toHaveLength(1)
      expect(left.filter((k) => k.endsWith('.avro') && !k.startsWith('snap-'))).toHaveLength(manifests)
    } finally {
      await p.close()
    }
  })

  it('a real rewind (refine --rewind) of a table with no key: icebird reads what Weir reads, no row twice', async () => {
    const { p, lake } = await pipeline('weir-iceberg-rewind-', {
      sources: { x: { kind: 'demo', dataset: 'x', count: 200 } },
      tables: { 'x.tweets': { eventTime: 'created_at' } },
    })
    const ids = async () =>
      ((await icebergRead({ tableUrl: uriOf(lake, 'trusted/x/tweets') })) as { id: unknown }[])
        .map((r) => String(r.id))
        .sort()
    const weirIds = async () =>
      (await p.query('SELECT id FROM trusted.x_tweets')).rows.map((r) => String(r.id)).sort()
    try {
      await p.ingest()
      await p.land()
      await p.refine()
      const before = await weirIds()
      expect(before.length).toBeGreaterThan(0)
      // No primary key: a rebuild that kept the old copy would show every tweet twice.
      const r = await p.refine(undefined, { rewind: '2000-01-01' })
      expect(r.notes?.join()).toMatch(/x_tweets: rewound \d+ raw files/)
      expect(await weirIds()).toEqual(before)
      expect(await ids()).toEqual(before)
    } finally {
      await p.close()
    }
  })

  it('catches up at the next refine: an older entry listing its own files, and an entry a crash left behind its commit', async () => {
    const { p, lake } = await pipeline('weir-iceberg-catchup-', {
      landing: { maxRecords: 20 },
      engine: { refineBatch: '4KB' },
      sources: { w: { kind: 'demo', dataset: 'weather', count: 60 } },
      tables: { 'w.realtime': { eventTime: 'data.time', format: 'iceberg' } },
    })
    const rows = async () =>
      ((await icebergRead({ tableUrl: uriOf(lake, 'trusted/w/realtime') })) as object[]).length
    const weirRows = async () =>
      Number((await p.query('SELECT count(*) AS n FROM trusted.w_realtime')).rows[0]!.n)
    const { getTable, putTable, tableFiles } = await import('../../src/catalog/catalog.js')
    const { commitFiles } = await import('../../src/catalog/iceberg/mirror.js')
    const rowsOf = async (key: string) =>
      Number((await engine.query(`SELECT count(*) AS n FROM ${sqlString(lake.localPath!(key))}`)).rows[0]!.n)
    try {
      await p.ingest()
      await p.land()
      await p.refine()
      expect(await rows()).toBe(60)
      const t = (await getTable(lake, 'trusted', 'w_realtime'))!
      // The snapshot is the one list of live files: the entry names it and lists none.
      expect(t.files).toBeUndefined()
      expect(t.icebergMetadata).toBe(
        `trusted/w/realtime/metadata/v${(await loadTable(lake, 'trusted/w/realtime'))!.version}.metadata.json`,
      )
      const live = (await tableFiles(lake, t))!
      expect(live.length).toBeGreaterThan(1)

      // An entry an older Weir wrote: its own list, a file shorter, and no snapshot yet.
      const { icebergSnapshot: _, icebergMetadata: __, ...rest } = t
      await putTable(lake, { ...rest, files: live.slice(1) })
      const first = await rowsOf(live[0]!)
      expect(await rows()).toBe(60)
      await p.refine()
      expect(await rows()).toBe(60 - first)
      const caught = (await getTable(lake, 'trusted', 'w_realtime'))!
      expect(caught.files).toBeUndefined()
      expect(caught.icebergSnapshot).toBe(
        (await loadTable(lake, 'trusted/w/realtime'))!.metadata['current-snapshot-id'],
      )

      // A commit that landed, and a crash before its entry was written: Weir reads the snapshot its
      // entry names until the next refine names the current one.
      const second = await rowsOf(live[1]!)
      await commitFiles(lake, engine, caught, { written: [], removed: [live[1]!] })
      await putTable(lake, caught)
      expect(await rows()).toBe(60 - first - second)
      expect(await weirRows()).toBe(60 - first)
      await p.refine()
      expect(await weirRows()).toBe(60 - first - second)
      expect((await getTable(lake, 'trusted', 'w_realtime'))!.icebergSnapshot).toBe(
        (await loadTable(lake, 'trusted/w/realtime'))!.metadata['current-snapshot-id'],
      )
    } finally {
      await p.close()
    }
  })

  it('a Hive-style table whose config turns to Iceberg keeps every row: its first commit holds all its files', async () => {
    const sections = (format: string) => ({
      landing: { maxRecords: 20 },
      sources: { w: { kind: 'demo', dataset: 'weather', count: 60 } },
      tables: { 'w.realtime': { eventTime: 'data.time', format } },
    })
    const first = await pipeline('weir-iceberg-switch-', sections('parquet'))
    const count = async (q: typeof first.p) =>
      Number((await q.query('SELECT count(*) AS n FROM trusted.w_realtime')).rows[0]!.n)
    try {
      await first.p.ingest()
      await first.p.land()
      await first.p.refine()
      expect(await count(first.p)).toBe(60)
    } finally {
      await first.p.close()
    }
    // Refined again before any `weir catalog migrate`: no key, so the same readings append.
    const root = first.lake.localPath!('')
    const next = await pipeline('weir-iceberg-switch-', { ...sections('iceberg'), lake: root })
    try {
      await next.p.ingest()
      await next.p.land()
      await next.p.refine()
      expect(await count(next.p)).toBe(120)
      expect((await getTable(next.lake, 'trusted', 'w_realtime'))!.iceberg).toBe(true)
      const read = await icebergRead({ tableUrl: uriOf(next.lake, 'trusted/w/realtime') })
      expect(read).toHaveLength(120)
    } finally {
      await next.p.close()
    }
  })

  it('reads a lake copied elsewhere at its new place, now and as of before, and its next refine starts the history there', async () => {
    // The clock stands still, so the demo makes the very same tweets each run (see the polling test).
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-11-25T12:00:00Z') })
    onTestFinished(() => {
      vi.useRealTimers()
    })
    const { cp, rm } = await import('node:fs/promises')
    const tables = { 'x.tweets': { eventTime: 'created_at', primaryKey: 'id', format: 'iceberg' } }
    const sources = { x: { kind: 'demo', dataset: 'x', count: 120 } }
    const { p, lake } = await pipeline('weir-iceberg-moved-', { sources, tables })
    const ids = async (q: typeof p, asOf?: AsOf) =>
      (await q.query('SELECT id FROM trusted.x_tweets', { asOf })).rows.map((r) => String(r.id)).sort()
    let first: number
    let before: string[]
    try {
      await p.ingest()
      await p.land()
      await p.refine()
      first = (await loadTable(lake, 'trusted/x/tweets/'))!.metadata['current-snapshot-id']
      await p.ingest()
      await p.land()
      await p.refine()
      before = await ids(p)
    } finally {
      await p.close()
    }
    // The old place is gone: whatever the copy reads, it reads at its own place.
    const root = lake.localPath!('')
    const copy = await tempDir('weir-iceberg-copy-')
    await cp(root, `${copy}/lake`, { recursive: true })
    await rm(root, { recursive: true, force: true })
    const moved = await pipeline('weir-iceberg-moved-', { sources, tables, lake: `${copy}/lake` })
    try {
      expect(await ids(moved.p)).toEqual(before)
      expect(await ids(moved.p, { snapshot: first })).toEqual(before)
      await moved.p.ingest()
      await moved.p.land()
      await moved.p.refine()
      expect(await ids(moved.p)).toEqual(before)
      const { metadata } = (await loadTable(moved.lake, 'trusted/x/tweets/'))!
      expect(metadata.location).toBe(uriOf(moved.lake, 'trusted/x/tweets/').replace(/\/$/, ''))
      const read = (await icebergRead({ tableUrl: uriOf(moved.lake, 'trusted/x/tweets') })) as {
        id: unknown
      }[]
      expect(read.map((r) => String(r.id)).sort()).toEqual(before)
    } finally {
      await moved.p.close()
    }
  })

  it('a reader polling while refine rewrites partitions 20 times never sees a duplicate or a missing row', async () => {
    // The demo spreads tweets over the days before now: with the clock moving, a tweet near midnight
    // would change day between runs, and refine dedupes within the partitions a batch touches. The
    // clock stands still here, so every run makes the very same tweets.
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-11-25T12:00:00Z') })
    onTestFinished(() => {
      vi.useRealTimers()
    })
    const { p, lake } = await pipeline('weir-iceberg-poll-', {
      sources: { x: { kind: 'demo', dataset: 'x', count: 200 } },
      tables: { 'x.tweets': { eventTime: 'created_at', primaryKey: 'id', format: 'iceberg' } },
    })
    try {
      await p.ingest()
      await p.land()
      await p.refine()
      const want = (await p.query('SELECT id FROM trusted.x_tweets')).rows.map((r) => String(r.id)).sort()
      let done = false
      const seen = { reads: 0, failed: [] as string[], wrong: [] as number[] }
      const poller = (async () => {
        while (!done) {
          try {
            const rows = (await icebergRead({ tableUrl: uriOf(lake, 'trusted/x/tweets') })) as {
              id: unknown
            }[]
            seen.reads++
            const ids = rows.map((r) => String(r.id)).sort()
            if (JSON.stringify(ids) !== JSON.stringify(want)) seen.wrong.push(ids.length)
          } catch (err) {
            // icebird refuses a snapshot with no data file: this table is never empty, so that is
            // a read of rows gone missing.
            if (/No data manifest files/.test(String(err))) seen.wrong.push(0)
            // A snapshot replaced while it was read keeps its files (until maintenance, past the
            // retention): no read may fail either.
            else seen.failed.push(String(err))
          }
        }
      })()
      // The demo source makes the same tweets again each time: every refine rewrites their partitions.
      for (let i = 0; i < 20; i++) {
        await p.ingest()
        await p.land()
        await p.refine()
      }
      done = true
      await poller
      expect(seen.wrong).toEqual([])
      expect(seen.failed).toEqual([])
      expect(seen.reads).toBeGreaterThan(20)
      const { metadata } = (await loadTable(lake, 'trusted/x/tweets'))!
      expect(metadata['last-sequence-number']).toBeGreaterThan(20)
    } finally {
      await p.close()
    }
  }, 120_000)
})
