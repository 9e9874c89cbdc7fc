import { resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEngine, sqlString } from '../../src/engine/engine.js'
import { type Simulator, startSimulator } from '../../src/sources/simulator/simulator.js'
import { scratchLake } from '../helpers/lake.js'
import { ids, published, runSource } from '../helpers/rest.js'

let sim: Simulator
beforeAll(async () => {
  sim = await startSimulator({ latencyMs: 15 })
})
afterAll(async () => sim.close())

const movies = resolve('test/fixtures/samples/movies_sample.csv')

function project(extra: Record<string, unknown> = {}) {
  return {
    movies: { kind: 'file', path: movies, csv: { delimiter: '|', null: '\\N' }, raw: 'as-is' },
    tmdb: {
      kind: 'rest',
      baseUrl: sim.url,
      auth: { apiKey: 'k-tmdb' },
      concurrency: 3,
      endpoints: {
        find: {
          preset: 'tmdb.find_by_imdb',
          parent: { source: 'movies', fields: { imdb_id: 'id' }, include: ['id'] },
        },
        details: {
          preset: 'tmdb.movie_details',
          parent: { endpoint: 'find', resource: 'find_movies', fields: { movie_id: 'id' } },
        },
      },
      ...extra,
    },
  }
}

async function imdbIds(): Promise<string[]> {
  const e = await createEngine()
  const { rows } = await e.query(
    `select distinct id from read_csv(${sqlString(movies)}, delim = '|', header = true) order by id`,
  )
  await e.close()
  return rows.map((r) => String(r.id))
}

describe('dependent resources', () => {
  it("movies.csv's IMDB ids drive TMDB find, whose results drive movie details, 3 requests at a time", async () => {
    const lake = await scratchLake()
    const before = sim.requests.length
    const r = await runSource(project(), 'tmdb', lake)
    expect(r.partial).toBeUndefined()
    const asked = sim.requests.slice(before)
    const wanted = await imdbIds()
    // One find per distinct IMDB id of the file, though the file repeats ids (a row per actor).
    expect(
      asked
        .filter((q) => q.path.startsWith('/3/find/'))
        .map((q) => q.path.slice(8))
        .sort(),
    ).toEqual(wanted)
    const records = await published(lake.stream, 'tmdb')
    const found = wanted.flatMap((id) => {
      const t = sim.world.tmdbIdForImdb(id)
      return t === undefined ? [] : [String(t)]
    })
    expect(ids(records, 'find_movies')).toEqual([...found].sort())
    expect(ids(records, 'movies')).toEqual([...found].sort())
    // Each find result keeps the IMDB id it was found by, for joining back to the CSV.
    expect(
      records
        .filter((x) => x.resource === 'find_movies')
        .every((x) => wanted.includes(String(x.data._parent_id))),
    ).toBe(true)
    // More than the preset's 40 requests per second: the budget paced the run instead of ending it.
    expect(asked.length).toBeGreaterThan(40)
    expect(sim.maxInFlight).toBeLessThanOrEqual(3)
    expect(sim.maxInFlight).toBeGreaterThan(1)
  })

  it('respects the budget: the run stops as partial after the allowed requests', async () => {
    const lake = await scratchLake()
    const before = sim.requests.length
    // Budget windows are aligned to the epoch: a 1h window made this test fail when it ran across the
    // top of an hour (the budget renewed mid-run). A 1000-day window has no boundary in sight.
    const r = await runSource(project({ budget: { requests: 7, per: '1000d' } }), 'tmdb', lake)
    expect(r.partial).toMatch(/budget of 7 per 1000d used up/)
    expect(sim.requests.length - before).toBe(7)
  })
})
