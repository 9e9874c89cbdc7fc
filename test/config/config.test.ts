import { writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/load.js'
import { WeirError } from '../../src/core/errors.js'
import { tempDir } from '../helpers/services.js'

async function project(files: Record<string, string>): Promise<string> {
  const dir = await tempDir('weir-config-')
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text)
  return dir
}

async function failure(p: Promise<unknown>): Promise<WeirError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(WeirError)
  return err as WeirError
}

describe('loadConfig', () => {
  it('loads weir.config.ts written with defineConfig, importing from the weir package', async () => {
    const dir = resolve('test/fixtures/project-ts')
    const { config, file } = await loadConfig({ cwd: dir, env: {} })
    expect(file).toBe(join(dir, 'weir.config.ts'))
    expect(config.lake).toBe('./lake-from-ts')
    expect(config.sources.orders?.kind).toBe('code')
    expect(config.landing.maxRecords).toBe(100_000) // defaults filled in
    expect(config.tables['orders.orders']).toEqual({
      eventTime: 'at',
      primaryKey: 'id',
      schema: 'evolve',
      flatten: true,
      format: 'iceberg',
      retention: '1h',
    })
  })

  it('loads weir.yaml with ${VAR}, ${VAR:-default} and a .env file, the environment winning over .env', async () => {
    const dir = await project({
      'weir.yaml': [
        'lake: ${LAKE_DIR}/lake',
        'landing:',
        '  maxRecords: 100',
        '  maxAge: ${MAX_AGE:-30s}',
        '  path: "raw/$${literal}/{source}/{resource}/{yyyy}/{mm}/{dd}"',
        'sources:',
        '  tweets: { kind: demo, dataset: x, count: 10 }',
      ].join('\n'),
      '.env': 'LAKE_DIR=/from/dotenv\nMAX_AGE=5s\n',
    })
    const fromDotEnv = await loadConfig({ cwd: dir })
    expect(fromDotEnv.config.lake).toBe('/from/dotenv/lake')
    expect(fromDotEnv.config.landing.maxAge).toBe('5s')
    expect(fromDotEnv.config.landing.path).toBe('raw/${literal}/{source}/{resource}/{yyyy}/{mm}/{dd}')
    process.env.LAKE_DIR = '/from/env'
    try {
      expect((await loadConfig({ cwd: dir })).config.lake).toBe('/from/env/lake')
    } finally {
      delete process.env.LAKE_DIR
    }
  })

  it('loads weir.json and lets --lake override the lake', async () => {
    const dir = await project({ 'weir.json': JSON.stringify({ lake: './a', sources: {} }) })
    expect((await loadConfig({ cwd: dir, env: {} })).config.lake).toBe('./a')
    expect((await loadConfig({ cwd: dir, env: {}, lake: 's3://bucket/p' })).config.lake).toBe('s3://bucket/p')
    // A --lake path is relative to the current directory, wherever the config file is.
    const elsewhere = await project({})
    const loaded = await loadConfig({ cwd: elsewhere, file: join(dir, 'weir.json'), env: {}, lake: 'here' })
    expect(loaded.config.lake).toBe(join(elsewhere, 'here'))
  })

  it('uses defaults when there is no config file', async () => {
    const dir = await project({})
    const { config, file } = await loadConfig({ cwd: dir, env: {} })
    expect(file).toBeUndefined()
    expect(config.lake).toBe('./lake')
    expect(config.stream).toEqual({ kind: 'embedded', partitions: 1, segmentBytes: '128MB' })
  })

  it('names the file, the key path, what was expected and what was found', async () => {
    const dir = await project({
      'weir.yaml': 'sources:\n  tweets:\n    kind: demo\n    dataset: x\n    count: "many"\n',
    })
    const err = await failure(loadConfig({ cwd: dir, env: {} }))
    expect(err.code).toBe('CONFIG_INVALID')
    expect(err.message).toContain('weir.yaml')
    expect(err.message).toContain('sources.tweets.count: expected number, found string "many"')
  })

  it('reports unknown keys and bad enum values with their paths', async () => {
    const dir = await project({
      'weir.json': JSON.stringify({
        lake: './l',
        landng: {},
        sources: { w: { kind: 'demo', dataset: 'rain' } },
      }),
    })
    const err = await failure(loadConfig({ cwd: dir, env: {} }))
    expect(err.message).toContain('landng: unknown key')
    expect(err.message).toContain('sources.w.dataset: expected one of "x", "weather", found string "rain"')
  })

  it('reports an unknown source kind by its discriminator', async () => {
    const dir = await project({ 'weir.json': JSON.stringify({ sources: { w: { kind: 'ftp' } } }) })
    const err = await failure(loadConfig({ cwd: dir, env: {} }))
    expect(err.message).toMatch(
      /sources\.w\.kind: expected "kind" to be one of "demo", "code", "rest", "file", "http-stream", found string "ftp"/,
    )
  })

  it('never shows the value of a secret-looking key', async () => {
    const dir = await project({
      'weir.json': JSON.stringify({ storage: { s3: { endpoint: 'http://x', token: 'sk-very-secret' } } }),
    })
    const err = await failure(loadConfig({ cwd: dir, env: {} }))
    expect(err.message).toContain('storage.s3.token: unknown key')
    expect(err.message).not.toContain('sk-very-secret')
    const typed = await project({ 'weir.json': JSON.stringify({ storage: { s3: { region: 12345 } } }) })
    expect((await failure(loadConfig({ cwd: typed, env: {} }))).message).toContain(
      'storage.s3.region: expected string, found number 12345',
    )
  })

  it('fails on an unset variable with the key path that needs it', async () => {
    const dir = await project({ 'weir.yaml': 'storage:\n  s3:\n    endpoint: ${S3_URL}\n' })
    const err = await failure(loadConfig({ cwd: dir, env: {} }))
    expect(err.code).toBe('CONFIG_ENV_MISSING')
    expect(err.message).toContain('weir.yaml: storage.s3.endpoint: environment variable S3_URL is not set')
  })

  it('fails clearly on a missing --config file and on unparsable YAML', async () => {
    const dir = await project({ 'weir.yaml': 'lake: [unclosed\n' })
    expect((await failure(loadConfig({ cwd: dir, file: 'nope.yaml', env: {} }))).code).toBe(
      'CONFIG_NOT_FOUND',
    )
    const bad = await failure(loadConfig({ cwd: dir, env: {} }))
    expect(bad.code).toBe('CONFIG_UNREADABLE')
    expect(bad.message).toMatch(/^weir\.yaml: cannot read config: /)
  })
})

describe('landing path', () => {
  it('must keep tables apart: {source} and {resource} before the time fields', async () => {
    const dir = await project({
      'weir.json': JSON.stringify({ landing: { path: 'Raw/Twitter/JSON/{yyyy}/{mm}/{dd}' } }),
    })
    const err = await failure(loadConfig({ cwd: dir, env: {} }))
    expect(err.message).toContain(
      'landing.path: the path must contain {source} and {resource} before any time field',
    )
  })

  it("takes a table's own landing folder (the seed's layout), but not one that overlaps another table's", async () => {
    const ok = await project({
      'weir.json': JSON.stringify({
        sources: { x: { kind: 'demo', dataset: 'x' } },
        tables: { 'x.tweets': { landing: { path: 'Raw/Twitter/JSON/{yyyy}/{mm}/{dd}', maxRecords: 100 } } },
      }),
    })
    const { config } = await loadConfig({ cwd: ok, env: {} })
    expect(config.tables['x.tweets']?.landing?.path).toBe('Raw/Twitter/JSON/{yyyy}/{mm}/{dd}')
    const clash = await project({
      'weir.json': JSON.stringify({
        sources: { x: { kind: 'demo', dataset: 'x' } },
        tables: {
          'x.tweets': { landing: { path: 'Raw/Twitter/JSON/{yyyy}' } },
          'x.users': { landing: { path: 'Raw/Twitter/{yyyy}' } },
        },
      }),
    })
    const err = await failure(loadConfig({ cwd: clash, env: {} }))
    expect(err.message).toContain(
      "tables.x.users.landing.path: its raw folder Raw/Twitter/ overlaps x.tweets's",
    )
  })

  it('rejects a time zone the runtime does not know', async () => {
    const dir = await project({ 'weir.json': JSON.stringify({ landing: { timeZone: 'Mars/Olympus' } }) })
    const err = await failure(loadConfig({ cwd: dir, env: {} }))
    expect(err.message).toContain('landing.timeZone: an IANA time zone such as "UTC" or "Europe/Paris"')
  })
})

describe('.env in the CLI', () => {
  it('is in process.env before weir.config.ts is evaluated (the real environment wins), as the CLI loads it', async () => {
    const dir = await project({
      'weir.config.ts':
        "export default { lake: process.env.WEIR_TEST_LAKE ?? './default', sources: { s: { kind: 'demo', dataset: 'x', count: process.env.WEIR_TEST_COUNT ? Number(process.env.WEIR_TEST_COUNT) : 1 } } }\n",
      '.env': 'WEIR_TEST_LAKE=./from-dotenv\nWEIR_TEST_COUNT=7\n',
    })
    process.env.WEIR_TEST_COUNT = '9'
    try {
      // A library call leaves the process's environment as it is.
      expect((await loadConfig({ cwd: dir })).config.lake).toBe('./default')
      const loaded = await loadConfig({ cwd: dir, applyDotEnv: true })
      expect(loaded.config.lake).toBe('./from-dotenv')
      expect((loaded.config.sources.s as { count: number }).count).toBe(9)
    } finally {
      delete process.env.WEIR_TEST_LAKE
      delete process.env.WEIR_TEST_COUNT
    }
  })
})
