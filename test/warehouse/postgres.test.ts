import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { configSchema } from '../../src/config/schema.js'
import { runDemo } from '../../src/pipeline/demo.js'
import { openPipeline } from '../../src/pipeline/pipeline.js'
import { weir } from '../helpers/cli.js'
import { serviceUp, tempDir } from '../helpers/services.js'
import { modelProject, tweet, user } from '../models/helpers.js'

const URL_ = process.env.WEIR_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test'
const up = await serviceUp('PostgreSQL', URL_, 5432, 'warehouse tests')
const schemas: string[] = []
const schema = () => {
  const s = `weir_test_${process.pid}_${schemas.length}`
  schemas.push(s)
  return s
}
// Dates as the text they are (pg's default makes them local-midnight Date objects).
pg.types.setTypeParser(1082, (v: string) => v)
const db = new pg.Pool({ connectionString: URL_, max: 3 })
afterAll(async () => {
  if (up) for (const s of schemas) await db.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`)
  await db.end()
})

/** Values as both sides can agree on: times as ISO instants, numbers as numbers, JSON as objects. */
function norm(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString()
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}/.test(v))
    return new Date(/Z|[+-]\d{2}(:?\d{2})?$/.test(v) ? v : `${v}Z`).toISOString()
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) && v.length < 16) return Number(v)
  if (v && typeof v === 'object') return JSON.parse(JSON.stringify(v))
  return v
}

describe.skipIf(!up)('weir load postgres', () => {
  it("after the demo's models, every model is in PostgreSQL with the same rows (aggregates on all, row by row on a sample); a second load changes nothing", async () => {
    const dir = await tempDir('weir-wh-')
    const lake = join(dir, 'lake')
    await runDemo({ lake })
    const target = schema()
    const p = await openPipeline({
      config: configSchema.parse({ lake, warehouse: { postgres: { url: URL_, schema: target } } }),
      file: undefined,
      dir,
    })
    try {
      const first = await p.loadPostgres()
      expect(first.length).toBe(11) // the demo's models, the stream's two included
      expect(first.every((r) => r.mode === 'full')).toBe(true)
      for (const r of first) {
        const lakeRows = await p.query(`select * from refined."${r.table}"`)
        const cols = lakeRows.columns
        const pgRows = (await db.query(`select * from "${target}"."${r.table}"`)).rows
        expect(pgRows.length, r.table).toBe(lakeRows.rows.length)
        // Aggregates on every numeric column.
        for (const c of cols.filter((x) => /^(BIGINT|INTEGER|DOUBLE)$/.test(x.type))) {
          const sum = (rows: readonly Record<string, unknown>[]) =>
            rows.reduce((n, row) => n + Number(row[c.name] ?? 0), 0)
          expect(sum(pgRows), `${r.table}.${c.name}`).toBeCloseTo(sum(lakeRows.rows), 6)
        }
        // Row by row on a sample: the same rows in the same key order.
        const key = cols[0]!.name
        const order = (rows: readonly Record<string, unknown>[]) =>
          [...rows]
            .sort((a, b) =>
              JSON.stringify([a[key], a.valid_from, a.dt]).localeCompare(
                JSON.stringify([b[key], b.valid_from, b.dt]),
              ),
            )
            .slice(0, 25)
        const a = order(lakeRows.rows).map((row) =>
          Object.fromEntries(cols.map((c) => [c.name, norm(row[c.name])])),
        )
        const b = order(pgRows).map((row) => Object.fromEntries(cols.map((c) => [c.name, norm(row[c.name])])))
        expect(b, r.table).toEqual(a)
      }
      const second = await p.loadPostgres()
      expect(second.map((r) => r.mode)).toEqual(first.map(() => 'unchanged'))
      const pk = await db.query(
        `select tc.table_name, string_agg(kcu.column_name, ',' order by kcu.ordinal_position) as cols from information_schema.table_constraints tc
         join information_schema.key_column_usage kcu using (constraint_schema, constraint_name)
         where tc.constraint_schema = $1 and tc.constraint_type = 'PRIMARY KEY' group by 1 order by 1`,
        [target],
      )
      expect(pk.rows).toContainEqual({ table_name: 'fact_tweet', cols: 'tweet_id' })
      expect(pk.rows).toContainEqual({ table_name: 'user_profile_history', cols: 'user_id,valid_from' })
    } finally {
      await p.close()
    }
  }, 60_000)

  it('after new data an incremental load writes only the changed keys; a column added is added; a type change fails in one line', async () => {
    const project = await modelProject()
    const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i)
    await project.load([
      ...range(0, 3).map((i) => ({ resource: 'users', data: user(i) })),
      ...range(0, 50).map((i) => ({ resource: 'tweets', data: tweet(i, 20) })),
    ])
    const target = schema()
    await project.write(
      'weir.yaml',
      `lake: ./lake\nwarehouse:\n  postgres: { url: "${URL_}", schema: ${target}, select: [fact_tweet] }\n`,
    )
    const run = async (...args: string[]) => weir(args, {}, project.dir)
    expect((await run('model', '--select', 'fact_tweet', '--no-test')).code).toBe(0)
    expect((await run('load', 'postgres')).stdout).toMatch(/^fact_tweet\s+full\s+50\s+50/m)
    // Ten tweets get new metrics, ten new ones arrive.
    await project.load([
      ...range(0, 10).map((i) => ({ resource: 'tweets', data: tweet(i, 20, i + 500) })),
      ...range(50, 60).map((i) => ({ resource: 'tweets', data: tweet(i, 21) })),
    ])
    expect((await run('model', '--select', 'fact_tweet', '--no-test')).code).toBe(0)
    const inc = await run('load', 'postgres')
    expect(inc.stdout).toMatch(/^fact_tweet\s+incremental\s+\d+\s+20\s/m) // 10 updated + 10 new; the other 40 untouched
    const { rows } = await db.query(
      `select count(*)::int as n, sum(likes)::int as likes from "${target}".fact_tweet`,
    )
    expect(rows[0]).toEqual({
      n: 60,
      likes: range(10, 60).reduce((a, b) => a + b, 0) + range(0, 10).reduce((a, b) => a + b + 500, 0),
    })

    // The model gains a column: it is added.
    const sqlPath = join(project.dir, 'models/tweets/fact_tweet.sql')
    const sql = await readFile(sqlPath, 'utf8')
    await project.write('models/tweets/fact_tweet.sql', sql.replace('  lang,', '  lang,\n  text,'))
    expect((await run('model', '--select', 'fact_tweet', '--no-test')).code).toBe(0)
    expect((await run('load', 'postgres')).stdout).toMatch(/^fact_tweet\s+\S+\s+\d+\s+\d+\s+text\s/m)
    expect((await db.query(`select count(text)::int as n from "${target}".fact_tweet`)).rows[0]).toEqual({
      n: 60,
    })
    // A column changes type: refused, with the command that reloads it.
    await project.write(
      'models/tweets/fact_tweet.sql',
      sql.replace('public_metrics_like_count as likes', 'public_metrics_like_count::DOUBLE as likes'),
    )
    expect((await run('model', '--select', 'fact_tweet', '--no-test')).code).toBe(0)
    const changed = await run('load', 'postgres')
    expect(changed.code).toBe(1)
    expect(changed.stderr).toBe(
      `weir: load postgres: ${target}.fact_tweet.likes is bigint in PostgreSQL but double precision in the lake; reload it whole with \`weir load postgres --select fact_tweet --full-refresh\`\n`,
    )
    expect((await run('load', 'postgres', '--full-refresh')).code).toBe(0)
    await project.close()
  }, 60_000)

  it('a reader polling during full refreshes never sees an empty or partial table', async () => {
    const project = await modelProject()
    await project.load(
      Array.from({ length: 2000 }, (_, i) => ({ resource: 'tweets', data: tweet(i, 20 + (i % 3)) })),
    )
    const target = schema()
    await project.write(
      'weir.yaml',
      `lake: ./lake\nwarehouse:\n  postgres: { url: "${URL_}", schema: ${target}, select: [fact_tweet] }\n`,
    )
    expect((await weir(['model', '--select', 'fact_tweet', '--no-test'], {}, project.dir)).code).toBe(0)
    expect((await weir(['load', 'postgres'], {}, project.dir)).code).toBe(0)
    const seen: (number | string)[] = []
    let stop = false
    const reader = (async () => {
      const c = await db.connect()
      try {
        while (!stop) {
          try {
            seen.push(Number((await c.query(`select count(*) as n from "${target}".fact_tweet`)).rows[0].n))
          } catch (err) {
            seen.push((err as Error).message)
          }
        }
      } finally {
        c.release()
      }
    })()
    for (let i = 0; i < 4; i++)
      expect((await weir(['load', 'postgres', '--full-refresh'], {}, project.dir)).code).toBe(0)
    stop = true
    await reader
    expect(seen.length).toBeGreaterThan(10)
    expect([...new Set(seen)]).toEqual([2000])
    await project.close()
  }, 60_000)
})
