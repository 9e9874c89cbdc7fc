import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { weir } from '../helpers/cli.js'
import { tempDir } from '../helpers/services.js'

const CORPUS = resolve('test/fixtures/bad-input/corpus.ndjson')

/** Every `_errors/` entry of the lake: one JSON line each, with its stage. */
async function errors(lake: string): Promise<{ stage: string; entry: Record<string, unknown> }[]> {
  const out: { stage: string; entry: Record<string, unknown> }[] = []
  const root = join(lake, '_errors')
  for (const e of await readdir(root, { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (!e.isFile()) continue
    const stage = join(e.parentPath, e.name)
      .slice(root.length + 1)
      .split('/')[0]!
    for (const line of (await readFile(join(e.parentPath, e.name), 'utf8')).split('\n'))
      if (line) out.push({ stage, entry: JSON.parse(line) as Record<string, unknown> })
  }
  return out
}

const query = async (dir: string, sql: string) => {
  const r = await weir(['query', sql, '-f', 'json'], {}, dir)
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout) as Record<string, unknown>[]
}

describe('a corpus of bad input through weir run --once', () => {
  it('exits 0, keeps every good record exactly, accounts for every line, and the table goes on', async () => {
    const dir = await tempDir('weir-bad-')
    await copyFile(CORPUS, join(dir, 'corpus.ndjson'))
    await writeFile(
      join(dir, 'weir.config.ts'),
      `export default {
  lake: './lake',
  sources: { src: { kind: 'file', path: 'corpus*.ndjson', resource: 'corpus' } },
  tables: { 'src.corpus': { eventTime: 'at' } },
}
`,
    )
    const lines = (await readFile(CORPUS)).toString('latin1').split('\n').filter(Boolean)
    const once = await weir(['run', '--once'], {}, dir)
    expect(once.code, once.stderr).toBe(0)

    // The forty good records, exactly.
    const good = await query(dir, 'select id, v from trusted.src_corpus where id <= 40 order by id')
    expect(good.map((r) => Number(r.id))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    const trusted = await query(dir, 'select id from trusted.src_corpus order by id')
    const errs = await errors(join(dir, 'lake'))
    // Every line: in trusted, or set aside with a reason.
    for (const e of errs) expect(String(e.entry.reason ?? e.entry._reason ?? '')).not.toBe('')
    expect(trusted.length + errs.length).toBe(lines.length)
    const bySet = (stage: string) => errs.filter((e) => e.stage === stage).length
    // Cut-off JSON, four non-objects, invalid UTF-8: at the source.
    expect(bySet('source')).toBe(6)
    // The 3 MB record (over the record size limit), an event time that is not a time and one
    // that is missing: at landing, which files records by their event time.
    expect(bySet('landing')).toBe(3)
    // The odd but valid ones are rows: type drift, a field named dt, __proto__, deep nesting, odd
    // keys, NUL characters.
    expect(trusted.map((r) => Number(r.id)).filter((id) => id > 1000)).toEqual([
      1006, 1007, 1008, 1009, 1010, 1011, 1012,
    ])
    const dt = await query(dir, `select dt_source, dt::VARCHAR as dt from trusted.src_corpus where id = 1008`)
    expect(dt).toEqual([{ dt_source: '../../etc', dt: '2026-11-20' }])
    expect(await readdir(join(dir, 'lake', 'trusted', 'src', 'corpus'))).toEqual([
      'dt=2026-11-20',
      'metadata',
    ])

    // The table still refines new files afterwards.
    await writeFile(
      join(dir, 'corpus-2.ndjson'),
      `${JSON.stringify({ id: 2001, at: '2026-11-21T10:00:00Z', v: 1 })}\n`,
    )
    const again = await weir(['run', '--once'], {}, dir)
    expect(again.code, again.stderr).toBe(0)
    expect(await query(dir, 'select count(*) as n from trusted.src_corpus where id = 2001')).toEqual([
      { n: 1 },
    ])
  }, 120_000)
})
