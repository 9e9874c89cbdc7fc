import { describe, expect, it } from 'vitest'
import { weir } from '../helpers/cli.js'
import { tempDir } from '../helpers/services.js'

const COMMANDS = ['demo', 'ingest', 'land', 'refine', 'query', 'status', 'simulate', 'catalog']

describe('weir --help', () => {
  it('describes every command and the global flags', async () => {
    const r = await weir(['--help'])
    expect(r.code).toBe(0)
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^\\s+${c}\\b.*\\w`, 'm'))
    for (const flag of ['--config <file>', '--lake <uri>', '--verbose', '--version'])
      expect(r.stdout).toContain(flag)
  })

  it.each([...COMMANDS, 'catalog ls', 'catalog describe', 'catalog ddl', 'catalog history'])(
    'weir %s --help describes it and its flags',
    async (cmd) => {
      const r = await weir([...cmd.split(' '), '--help'])
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/^Usage: weir /)
      expect(r.stdout).toContain('--lake <uri>') // global flags are shown on every command
      expect(r.stdout.split('\n')[2]?.trim().length).toBeGreaterThan(10) // a description line
    },
  )

  it('lists the output formats of query and the demo size flags', async () => {
    expect((await weir(['query', '--help'])).stdout).toMatch(
      /--format <format>.*choices: "table", "csv", "json"/s,
    )
    expect((await weir(['demo', '--help'])).stdout).toMatch(/--tweets-per-hour <n>/)
  })
})

describe('exit codes and errors', () => {
  it('an unknown command prints one line and exits 2', async () => {
    const r = await weir(['frobnicate'])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(/^weir: unknown command 'frobnicate'.*\n$/)
  })

  it('an unknown flag prints one line with a suggestion and exits 2', async () => {
    const r = await weir(['query', 'select 1', '--lak', 'x'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^weir: unknown option '--lak' \(Did you mean --lake\?\).*\n$/)
  })

  it('a bad flag value exits 2', async () => {
    const r = await weir(['query', 'select 1', '--format', 'xml'])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toContain("'xml' is invalid")
  })

  it('a runtime failure prints one line and exits 1; --verbose adds the stack', async () => {
    const lake = await tempDir('weir-empty-')
    const r = await weir(['query', 'select * from trusted.nothing', '--lake', lake])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(
      /^weir: SQL failed at line 1, column 15: Catalog Error: Table with name nothing does not exist! .*\n$/,
    )
    const v = await weir(['query', 'select * from trusted.nothing', '--lake', lake, '--verbose'])
    expect(v.code).toBe(1)
    expect(v.stderr.split('\n')[0]).toMatch(/^weir: SQL failed/)
    expect(v.stderr).toMatch(/\n\s+at .+engine\.js/)
  })

  it('weir run --role with nothing to do for it says so and exits 1 (it does not idle or exit 0)', async () => {
    const dir = await tempDir('weir-role-')
    const { writeFile } = await import('node:fs/promises')
    await writeFile(
      `${dir}/weir.json`,
      JSON.stringify({ lake: './lake', sources: { x: { kind: 'demo', dataset: 'x' } } }),
    )
    const r = await weir(['run', '--role', 'alerts', 'serve'], {}, dir)
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      'weir: nothing to run for --role alerts serve: alerts: the config has no alerts.rules; serve: the config has no serve.tables\n',
    )
  })

  it('a config error names the file and key in one line', async () => {
    const dir = await tempDir('weir-cfg-')
    const { writeFile } = await import('node:fs/promises')
    await writeFile(`${dir}/weir.yaml`, 'landing:\n  maxRecords: -5\n')
    const r = await weir(['catalog', 'ls'], {}, dir)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^weir: weir\.yaml: invalid config: landing\.maxRecords: .*found number -5\n$/)
  })

  it('--config and --lake work on a stage command', async () => {
    const dir = await tempDir('weir-cfg-')
    const { writeFile } = await import('node:fs/promises')
    await writeFile(
      `${dir}/pipeline.json`,
      JSON.stringify({
        sources: { w: { kind: 'demo', dataset: 'weather', count: 50 } },
        tables: { 'w.realtime': { eventTime: 'data.time' } },
      }),
    )
    const lake = `${dir}/elsewhere`
    const ingest = await weir(
      ['ingest', '--config', 'pipeline.json', '--lake', lake, '--log-format', 'text'],
      {},
      dir,
    )
    expect(ingest.stderr).toBe('')
    expect(ingest.stdout).toMatch(/^ingest\s+50 records/)
    // Off a terminal, without --log-format, the summary is one JSON object.
    expect(
      JSON.parse((await weir(['land', '-c', 'pipeline.json', '--lake', lake], {}, dir)).stdout),
    ).toMatchObject({
      event: 'summary',
      stage: 'land',
      records: 50,
    })
    expect(
      (await weir(['refine', '-c', 'pipeline.json', '--lake', lake, '--log-format', 'text'], {}, dir)).stdout,
    ).toMatch(/^refine\s+50 records/)
    const q = await weir(
      [
        'query',
        'select count(*) as n from trusted.w_realtime',
        '-c',
        'pipeline.json',
        '--lake',
        lake,
        '-f',
        'json',
      ],
      {},
      dir,
    )
    expect(q.stdout).toBe('[{"n":50}]\n')
    const unknown = await weir(['ingest', 'nope', '-c', 'pipeline.json', '--lake', lake], {}, dir)
    expect(unknown.stderr).toBe('weir: source "nope" is not in the config; sources: w\n')
  })
})

describe('queries on an empty lake', () => {
  it('say the lake has no tables yet and how to fill it', async () => {
    const lake = await tempDir('weir-empty-')
    const r = await weir(['query', 'select * from trusted.x_tweets', '--lake', lake])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(
      /has no tables yet: run `weir demo --lake .*`, or ingest, land and refine first\n$/,
    )
    expect((await weir(['query', 'select 42 as n', '--lake', lake, '-f', 'json'])).stdout).toBe(
      '[{"n":42}]\n',
    )
  })
})

describe('stage summaries', () => {
  it('say how many records were set aside (here: no event time where the config says there is one)', async () => {
    const dir = await tempDir('weir-cfg-')
    const { writeFile } = await import('node:fs/promises')
    await writeFile(
      `${dir}/weir.json`,
      JSON.stringify({
        sources: { w: { kind: 'demo', dataset: 'weather', count: 20 } },
        tables: { 'w.realtime': { eventTime: 'data.missing_field' } },
      }),
    )
    expect((await weir(['ingest'], {}, dir)).code).toBe(0)
    const land = await weir(['land', '--log-format', 'text'], {}, dir)
    expect(land.stdout).toMatch(/^land\s+0 records.*20 set aside in _errors\//)
    const { readdir, readFile } = await import('node:fs/promises')
    const errDir = `${dir}/lake/_errors/landing/w/realtime`
    const [day] = await readdir(errDir, { recursive: true }).then((f) =>
      f.filter((x) => x.endsWith('.ndjson')),
    )
    const first = JSON.parse((await readFile(`${errDir}/${day}`, 'utf8')).split('\n')[0]!)
    expect(first.reason).toBe('no readable event time in "data.missing_field"')
  })
})

describe('weir query output', () => {
  it('streams every row as json and csv, and shows at most 1,000 rows as a table', async () => {
    const lake = await tempDir('weir-q-')
    const sql = 'select i, i * 2 as double from range(25000) t(i)'
    const json = JSON.parse((await weir(['query', sql, '--lake', lake, '-f', 'json'])).stdout) as {
      i: number
    }[]
    expect(json).toHaveLength(25_000)
    expect(json[24_999]).toEqual({ i: 24_999, double: 49_998 })
    const csv = (await weir(['query', sql, '--lake', lake, '-f', 'csv'])).stdout.trimEnd().split('\n')
    expect(csv[0]).toBe('i,double')
    expect(csv).toHaveLength(25_001)
    const table = (await weir(['query', sql, '--lake', lake])).stdout
    expect(table).toContain('(1000 rows)')
    expect(table).toContain('showing the first 1,000 rows; --format csv or json gives all')
  })

  it('quotes CSV fields that need it and prints an empty JSON result as []', async () => {
    const lake = await tempDir('weir-q-')
    const csv = await weir([
      'query',
      `select 'a,b' as x, 'say "hi"' as y, NULL as z`,
      '--lake',
      lake,
      '-f',
      'csv',
    ])
    expect(csv.stdout).toBe('x,y,z\n"a,b","say ""hi""",\n')
    expect((await weir(['query', 'select 1 as n where false', '--lake', lake, '-f', 'json'])).stdout).toBe(
      '[]\n',
    )
  })
})

describe('weir status', () => {
  it("shows each consumer group's position and lag, and each source's last run", async () => {
    const dir = await tempDir('weir-status-')
    const { writeFile } = await import('node:fs/promises')
    await writeFile(
      `${dir}/weir.json`,
      JSON.stringify({ sources: { w: { kind: 'demo', dataset: 'weather', count: 30 } } }),
    )
    await weir(['ingest'], {}, dir)
    await weir(['land'], {}, dir)
    await weir(['ingest'], {}, dir) // 30 more, not landed yet
    const s = JSON.parse((await weir(['status', '-f', 'json'], {}, dir)).stdout)
    expect(s.groups).toEqual([
      { topic: 'w', partition: '0', group: 'landing', committed: '29', end: '59', lag: 30 },
    ])
    expect(s.sources[0].last_run).toMatch(/^\d{8}T\d{6}-/)
    expect((await weir(['status'], {}, dir)).stdout).toMatch(/w\s+0\s+landing\s+29\s+59\s+30/)
  })
})

describe('Ctrl+C', () => {
  it('stops ingest at once (the request in flight cut), with its cursor saved, and exits 130', async () => {
    const { spawn } = await import('node:child_process')
    const { resolve } = await import('node:path')
    const { startSimulator } = await import('../../src/sources/simulator/simulator.js')
    const sim = await startSimulator({ tweetsPerHour: 600, latencyMs: 150 })
    try {
      const dir = await tempDir('weir-int-')
      const { writeFile } = await import('node:fs/promises')
      await writeFile(
        `${dir}/weir.json`,
        JSON.stringify({
          sources: {
            x: {
              preset: 'x.recent_search',
              baseUrl: sim.url,
              auth: { bearer: 't' },
              params: { query: '-is:retweet' },
            },
          },
        }),
      )
      const child = spawn(process.execPath, [resolve('bin/weir.js'), 'ingest', '--log-format', 'text'], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let out = ''
      let err = ''
      child.stdout.on('data', (d) => {
        out += d
      })
      child.stderr.on('data', (d) => {
        err += d
      })
      // Stopped once a few pages came back (not after a fixed time: a loaded machine starts slowly).
      const served = () => sim.requests.filter((r) => r.path === '/2/tweets/search/recent').length
      for (let i = 0; i < 400 && served() < 4; i++) await new Promise((r) => setTimeout(r, 50))
      child.kill('SIGINT')
      const code = await new Promise((r) => child.on('close', r))
      expect(code).toBe(130)
      expect(err).toContain('stopping: no new request, batches in hand made durable')
      expect(out).toMatch(/note: stopped by request; the next run resumes from the saved cursor/)
      const published = Number(/ingest\s+([\d,]+) records/.exec(out)![1]!.replace(/,/g, ''))
      expect(published).toBeGreaterThan(0)
      const pages = sim.requests.filter((r) => r.path === '/2/tweets/search/recent').length
      expect(pages).toBeLessThan(60) // it stopped long before the last of ~72 pages
      // The saved cursor resumes the pagination where it stopped.
      const { createLocalStore } = await import('../../src/storage/local/local-store.js')
      const state = JSON.parse(
        Buffer.from((await createLocalStore(`${dir}/lake`).getBytes('_state/sources/x.json'))!).toString(),
      )
      expect(
        Object.values(state.cursor.partitions as Record<string, { resume?: unknown }>)[0]!.resume,
      ).toBeDefined()
    } finally {
      await sim.close()
    }
  })
})

describe('weir simulate', () => {
  it('serves the fake APIs until Ctrl+C, then says how many requests it served', async () => {
    const { spawn } = await import('node:child_process')
    const { resolve } = await import('node:path')
    const { freePort } = await import('../helpers/services.js')
    const port = await freePort()
    const child = spawn(
      process.execPath,
      [resolve('bin/weir.js'), 'simulate', '--port', String(port), '--frozen'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    for (let i = 0; i < 50 && !out.includes('http://'); i++) await new Promise((r) => setTimeout(r, 100))
    expect(out).toContain(`on http://127.0.0.1:${port}`)
    const res = await fetch(`http://127.0.0.1:${port}/v4/weather/realtime?location=lisbon&apikey=k`)
    expect(((await res.json()) as { location: { name: string } }).location.name).toMatch(/^Lisboa/)
    const denied = await fetch(`http://127.0.0.1:${port}/2/tweets/search/recent?query=x`)
    expect(denied.status).toBe(401) // X wants a bearer token, as the real API does
    child.kill('SIGINT')
    const code = await new Promise((r) => child.on('close', r))
    expect(code).toBe(0)
    expect(out).toContain('served 2 requests')
  })
})

describe('weir catalog describe', () => {
  it("shows a table's columns, location and key, as a table or as JSON", async () => {
    const lake = await tempDir('weir-desc-')
    expect((await weir(['demo', '--lake', lake])).code).toBe(0)
    const t = await weir(['catalog', 'describe', 'trusted.x_tweets', '--lake', lake])
    expect(t.stdout).toMatch(
      /^trusted\.x_tweets\s+iceberg\s+.*trusted\/x\/tweets\/\s+partitioned by dt\s+key id/,
    )
    expect(t.stdout).toMatch(/^id\s+VARCHAR$/m)
    // A model's table and column descriptions, as its YAML gave them to the catalog.
    const dim = (await weir(['catalog', 'describe', 'refined.dim_user', '--lake', lake])).stdout
    expect(dim).toMatch(
      /^refined\.dim_user\s+iceberg\s+.*\nOne row per X user, with the profile as last collected\.\n/,
    )
    expect(dim).toMatch(/^user_id\s+VARCHAR\s+The X user id \(exact, as text\)\.$/m)
    const j = JSON.parse(
      (await weir(['catalog', 'describe', 'trusted.x_tweets', '--lake', lake, '-f', 'json'])).stdout,
    )
    expect(j).toMatchObject({ zone: 'trusted', name: 'x_tweets', primaryKey: ['id'], partitioning: ['dt'] })
    const missing = await weir(['catalog', 'describe', 'trusted.nope', '--lake', lake])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/table trusted\.nope is not in the catalog of .*; see `weir catalog ls`/)
    const badZone = await weir(['catalog', 'describe', 'gold.x', '--lake', lake])
    expect(badZone.stderr).toMatch(/zone must be one of raw, trusted, refined/)
    const athena = await weir([
      'catalog',
      'ddl',
      'trusted.x_tweets',
      '--lake',
      lake,
      '--location',
      's3://b/lake',
    ])
    expect(athena.stdout).toMatch(
      /^-- trusted\.x_tweets is an Iceberg table: Athena reads it through the Glue Data Catalog\./,
    )
    const trino = await weir([
      'catalog',
      'ddl',
      'trusted.x_tweets',
      '--lake',
      lake,
      '--location',
      's3://b/lake',
      '--dialect',
      'trino',
    ])
    expect(trino.stdout).toMatch(
      /^CALL iceberg\.system\.register_table\(schema_name => 'trusted', table_name => 'x_tweets', table_location => 's3:\/\/b\/lake\/trusted\/x\/tweets\/', metadata_file_name => 'v\d+\.metadata\.json'\);\n$/,
    )
    const status = await weir(['refine', '--status', '--lake', lake])
    expect(status.stdout).toMatch(/^x_tweets\s+0\s+0 B\s+0\s+\d+\s+1$/m) // all refined, in one batch
    const { writeFile, mkdir } = await import('node:fs/promises')
    await mkdir(`${lake}/raw/x/json/tweets/2026/01/01`, { recursive: true })
    await writeFile(`${lake}/raw/x/json/tweets/2026/01/01/late.ndjson`, '{"id":"1"}\n')
    expect((await weir(['refine', '--status', '--lake', lake])).stdout).toMatch(
      /^x_tweets\s+1\s+11 B\s+0\s+\d+\s+1$/m,
    )
    const compacted = await weir(['refine', '--compact', 'x_tweets', '--lake', lake])
    expect(compacted.code).toBe(0)
    expect(compacted.stdout).toMatch(/^x_tweets\s+\d+\s+\d+\s+\d+$/m)
    // Rewind: the partitions of what landed in the last hour are rebuilt from raw, same rows.
    const count = async () =>
      (await weir(['query', 'select count(*) as n from trusted.x_tweets', '--format', 'csv', '--lake', lake]))
        .stdout
    expect((await weir(['refine', '--lake', lake])).code).toBe(0) // the late file above
    const before = await count()
    const rewound = await weir(['refine', '--rewind', '1h', '--lake', lake, '--log-format', 'text'])
    expect(rewound.code, rewound.stderr).toBe(0)
    expect(rewound.stdout).toMatch(
      /note: x_tweets: rewound \d+ raw files; rebuilding dt=\S+ .*from \d+ raw files/,
    )
    expect(await count()).toBe(before)
    const nothing = await weir(['refine', '--rewind', '2999-01-01', '--lake', lake])
    expect(nothing.code).toBe(1)
    expect(nothing.stderr).toMatch(/^weir: --rewind 2999-01-01: no refined raw file matches\n$/)
    const history = await weir(['catalog', 'history', 'trusted.x_tweets', '--lake', lake])
    expect(history.stdout).toMatch(/^1\s+\S+\s+\d+\s+raw\/x\/json\/tweets\/\S+\.ndjson\s+created$/m)
    const duck = await weir(['catalog', 'ddl', 'trusted.x_tweets', '--lake', lake, '--dialect', 'duckdb'])
    expect(duck.stdout).toContain(`iceberg_scan('${lake}/trusted/x/tweets/')`)
  })
})
