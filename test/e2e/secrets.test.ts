import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { weir } from '../helpers/cli.js'
import { tempDir } from '../helpers/services.js'

/**
 * Every error path a user can reach with a secret in play: the marker, given only through the
 * environment (or typed into a URL), must appear nowhere Weir prints or keeps: stdout, stderr (with
 * --verbose too), the run history, `_errors/`, the alerts table, anything under the project folder.
 */
const MARKER = 'sk-sweep-4b7e19d2'
const env = { MARKER }
const S = '${MARKER}'

let hostile: { url: string; close(): Promise<void> }
let closedPort: number

beforeAll(async () => {
  // A port nothing listens on (fetch refuses low ports like 1 outright, before connecting).
  const probe = createServer()
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r))
  closedPort = (probe.address() as AddressInfo).port
  await new Promise<void>((r) => probe.close(() => r()))
  // An API that echoes what it was sent (headers and URL) in its error bodies, as some do.
  const server = createServer((req, res) => {
    const echo = JSON.stringify({ error: 'no', you_sent: { url: req.url, headers: req.headers } })
    const status = req.url?.startsWith('/forbidden') ? 403 : req.url?.startsWith('/broken') ? 500 : 400
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(echo)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  hostile = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
})
afterAll(() => hostile?.close())

const rest = (baseUrl: string, path: string, auth: Record<string, unknown>) => ({
  kind: 'rest',
  baseUrl,
  auth,
  retry: { attempts: 2, baseDelay: '10ms' },
  endpoints: { e: { path, select: { items: 'data' } } },
})

/**
 * Each case: a config (with ${MARKER} where a secret goes), the commands a user would run, and what
 * their output must say (so the case is known to reach the error path it is about).
 */
const cases: [string, Record<string, unknown>, string[][], RegExp][] = [
  [
    'a bearer token, a host that refuses connections',
    { sources: { s: rest('REFUSED', '/items', { bearer: S }) } },
    [['run', '--once'], ['ingest', 's'], ['runs'], ['runs', '--failed'], ['status']],
    /cannot connect to 127\.0\.0\.1:\d+ \(connection refused\)/,
  ],
  [
    'a bearer token, an API that echoes it in a 403',
    { sources: { s: rest('HOSTILE', '/forbidden', { bearer: S }) } },
    [
      ['run', '--once'],
      ['ingest', 's', '--verbose'],
      ['runs', '--failed'],
    ],
    /was refused: HTTP 403/,
  ],
  [
    'a key in the query, an API that echoes the URL in a 500',
    { sources: { s: rest('HOSTILE', '/broken', { apiKey: S, name: 'api_key', in: 'query' }) } },
    [
      ['run', '--once'],
      ['runs', '--failed'],
    ],
    /failed after 2 attempts: HTTP 500/,
  ],
  [
    'basic auth, an API that echoes it in a 400',
    { sources: { s: rest('HOSTILE', '/bad', { basic: { username: 'u', password: S } }) } },
    [
      ['ingest', 's'],
      ['runs', '--failed'],
    ],
    /was refused: HTTP 400/,
  ],
  [
    'a webhook whose URL holds the secret, answering 500',
    {
      sources: { x: { kind: 'demo', dataset: 'x' } },
      alerts: {
        channels: { hook: { kind: 'webhook', url: `HOSTILE/broken/${S}`, retries: 0 } },
        rules: { r: { source: 'x', resource: 'tweets', when: 'true', channels: ['hook'] } },
      },
    },
    [
      ['run', '--once'],
      ['runs', '--failed'],
      ['query', 'select * from weir.alerts'],
    ],
    /could not be delivered .*HTTP 500/,
  ],
  [
    'an SMTP password, a mail server that is not there',
    {
      sources: { x: { kind: 'demo', dataset: 'x' } },
      alerts: {
        channels: {
          mail: {
            kind: 'email',
            host: '127.0.0.1',
            port: 1,
            user: 'weir',
            pass: S,
            from: 'a@example.com',
            to: ['b@example.com'],
            retries: 0,
          },
        },
        rules: { r: { source: 'x', resource: 'tweets', when: 'true', channels: ['mail'] } },
      },
    },
    [
      ['run', '--once', '--verbose'],
      ['runs', '--failed'],
    ],
    /could not be delivered .*SMTP 127\.0\.0\.1:1/,
  ],
  [
    'a warehouse password, a database that is not there',
    {
      sources: { x: { kind: 'demo', dataset: 'x' } },
      warehouse: { postgres: { url: `postgres://weir:${S}@127.0.0.1:1/db` } },
    },
    [
      ['run', '--once'],
      ['load', 'postgres'],
      ['load', 'postgres', '--verbose'],
      ['runs', '--failed'],
    ],
    /load postgres: cannot connect/,
  ],
  [
    'a serving store password, a database that is not there',
    {
      sources: { x: { kind: 'demo', dataset: 'x' } },
      serve: {
        store: { kind: 'postgres', url: `postgres://weir:${S}@127.0.0.1:1/db` },
        tables: { t: { source: 'x', resource: 'tweets', key: 'id' } },
      },
    },
    [
      ['serve', '--port', '0'],
      ['serve', '--port', '0', '--verbose'],
    ],
    /serving store postgres:\/\/\*\*\*@127\.0\.0\.1:1\/db: cannot connect/,
  ],
  [
    'a secret where a number, a duration, a lake or a preset goes',
    { lake: `s3://${S}`, engine: { threads: S } },
    [['status'], ['validate'], ['run', '--once', '--verbose']],
    /engine\.threads: expected number, found a string from the environment/,
  ],
  [
    'a secret as the lake',
    { lake: `ftp://${S}/lake` },
    [['status'], ['status', '--verbose']],
    /lake ftp:\/\/\*\*\*\/lake: unsupported scheme/,
  ],
  [
    'a password typed into the lake URL (no variable)',
    { lake: `ftp://weir:${MARKER}@host/lake` },
    [['status'], ['status', '--verbose']],
    /lake ftp:\/\/\*\*\*@host\/lake: unsupported scheme/,
  ],
  [
    'a secret as a preset',
    { sources: { s: { preset: S } } },
    [['validate'], ['run', '--once']],
    /no preset "\*\*\*"/,
  ],
]

describe('a secret never appears in what Weir prints or keeps', () => {
  for (const [what, config, commands, reached] of cases) {
    it(what, async () => {
      const dir = await tempDir('weir-secrets-')
      const text = JSON.stringify({ lake: './lake', ...config })
        .replaceAll('HOSTILE', hostile.url)
        .replaceAll('REFUSED', `http://127.0.0.1:${closedPort}`)
      await writeFile(join(dir, 'weir.json'), text)
      let failures = 0
      let all = ''
      for (const command of commands) {
        const r = await weir(command, env, dir)
        all += `$ weir ${command.join(' ')}\n${r.stdout.slice(-1500)}${r.stderr.slice(0, 1500)}`
        if (r.code !== 0) failures++
        expect(r.stdout + r.stderr, command.join(' ')).not.toContain(MARKER)
        // Tests of what is kept see the masked form only: the secret's characters are not there.
        expect(r.stdout + r.stderr, command.join(' ')).not.toContain(MARKER.slice(3))
      }
      expect(failures, 'each case reaches an error path').toBeGreaterThan(0)
      expect(all).toMatch(reached)
      // Nothing kept under the project (lake, state, run history, _errors/, the alerts table).
      const { stdout } = await promisify(execFile)('grep', [
        '-rl',
        MARKER.slice(3),
        dir,
        '--exclude=weir.json',
      ]).catch(() => ({ stdout: '' }))
      expect(stdout).toBe('')
    }, 120_000)
  }
})
