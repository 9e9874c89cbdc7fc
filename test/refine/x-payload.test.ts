import { readFile } from 'node:fs/promises'
import { expect, it } from 'vitest'
import { getTable } from '../../src/catalog/catalog.js'
import { attachLake } from '../../src/catalog/views.js'
import { createEngine } from '../../src/engine/engine.js'
import { land } from '../../src/landing/landing.js'
import { refine } from '../../src/refine/refine.js'
import { createStateStore } from '../../src/state/state.js'
import { json, scratchLake } from '../helpers/lake.js'
import { tempDir } from '../helpers/services.js'

const sample = async (name: string) =>
  JSON.parse(await readFile(`test/fixtures/samples/x_api/${name}`, 'utf8')) as {
    data: Record<string, unknown>[] | Record<string, unknown>
    includes?: { users?: unknown[]; tweets?: unknown[] }
  }

it("refines the X API's own payloads (nested metrics, entities, referenced tweets, includes.users) into flat tables and child tables", async () => {
  const { store, stream } = await scratchLake()
  const state = createStateStore(store)
  // As the X source publishes them: each tweet of data and includes.tweets, each user of includes.users.
  const tweets: unknown[] = []
  const users: unknown[] = []
  for (const name of [
    'tweet_reply_with_includes_docs_example_payload.json',
    'search_recent_docs_optional_fields.json',
  ]) {
    const page = await sample(name)
    tweets.push(...(Array.isArray(page.data) ? page.data : [page.data]), ...(page.includes?.tweets ?? []))
    users.push(...(page.includes?.users ?? []))
  }
  // The metrics refresh lands the same tweets again later: they must stay one row each.
  await stream.publish(
    'x',
    [...tweets, ...tweets].map((t) => json(t, 'tweets')),
  )
  await stream.publish(
    'x',
    users.map((u) => json(u, 'users')),
  )
  const table = (_s: string, resource: string) => ({
    maxRecords: 100,
    maxBytes: 1e7,
    maxAgeMs: 6e4,
    path: 'raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}',
    eventTime: resource === 'tweets' ? 'created_at' : undefined,
  })
  const landed = await land(stream, store, { topics: ['x'], state, table, timeBy: 'event' })
  expect(landed.errors).toBe(0)
  const engine = await createEngine()
  await refine(store, engine, state, {
    tables: { 'x.tweets': { eventTime: 'created_at', primaryKey: 'id' }, 'x.users': { primaryKey: 'id' } },
    stagingDir: await tempDir('weir-stage-'),
  })
  await engine.close()

  const q = await createEngine()
  await attachLake(q, store)
  const distinct = new Set(tweets.map((t) => (t as { id: string }).id))
  const rows = (
    await q.query(
      'select id, created_at, public_metrics_like_count as likes from trusted.x_tweets order by id',
    )
  ).rows
  expect(rows.map((r) => r.id)).toEqual([...distinct].sort()) // exact ids, one row each
  const types = Object.fromEntries(
    (await getTable(store, 'trusted', 'x_tweets'))!.columns.map((c) => [c.name, c.type]),
  )
  expect(types.created_at).toMatch(/^TIMESTAMP/)
  expect(types.id).toBe('VARCHAR')
  const userIds = new Set(users.map((u) => (u as { id: string }).id))
  expect((await q.query('select count(*) as n from trusted.x_users')).rows).toEqual([{ n: userIds.size }])
  // Lists of objects became child tables, linked to their tweet by id and position.
  const refs = (
    await q.query(
      'select r.parent_id, r.position, r.type, r.id from trusted.x_tweets__referenced_tweets r join trusted.x_tweets t on t.id = r.parent_id',
    )
  ).rows
  expect(refs).toEqual([
    { parent_id: '1307025659294674945', position: 1, type: 'replied_to', id: '1304102743196356610' },
  ])
  const urls = (
    await q.query(
      'select parent_id, position, expanded_url from trusted.x_tweets__entities_urls order by parent_id',
    )
  ).rows
  // The reply's link, and the link of the tweet it replies to (from includes.tweets).
  expect(urls.map((u) => [u.parent_id, u.position])).toEqual([
    ['1304102743196356610', 1],
    ['1307025659294674945', 1],
  ])
  expect(String(urls[1]!.expanded_url)).toContain('dev.to/twitterdev')
  await q.close()
})
