import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { versionsCheck } from '../../src/pipeline/doctor.js'
import { weir } from '../helpers/cli.js'
import { freePort, s3Env, serviceUp, startS3, tempDir } from '../helpers/services.js'
import { smallDisk } from '../helpers/tmpfs.js'

const PG = process.env.WEIR_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test'
const NATS = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'

interface Check {
  check: string
  status: string
  detail: string
  fix?: string
}

/** `weir doctor --format json` in a project with this weir.yaml (and .env), by check. */
async function doctor(yaml: string, env = '', args: string[] = []) {
  const dir = await tempDir('weir-doctor-')
  await writeFile(join(dir, 'weir.yaml'), yaml)
  if (env) await writeFile(join(dir, '.env'), env)
  const r = await weir(['doctor', '--format', 'json', ...args], {}, dir)
  if (!r.stdout) throw new Error(`weir doctor printed nothing (exit ${r.code}): ${r.stderr}`)
  const checks = JSON.parse(r.stdout) as Check[]
  return {
    code: r.code,
    dir,
    by: Object.fromEntries(checks.map((c) => [c.check, c])) as Record<string, Check>,
  }
}

const REST = (bearer: string) => `sources:
  x:
    kind: rest
    baseUrl: simulator
    auth: { bearer: '${bearer}' }
    endpoints:
      search: { preset: x.recent_search, params: { query: ['#duckdb'] } }
`

describe('weir doctor', () => {
  const servers: { close(): void }[] = []
  afterAll(() => {
    for (const s of servers) s.close()
  })

  it('versions: passes on this Node, fails below 20.15 with how to upgrade', () => {
    expect(versionsCheck(process.versions.node).status).toBe('pass')
    const old = versionsCheck('18.19.1')
    expect(old).toMatchObject({ status: 'fail', detail: 'Node 18.19.1 is older than Weir needs (20.15)' })
    expect(old.fix).toMatch(/install Node 20\.15/)
    expect(versionsCheck('20.14.0').status).toBe('fail')
  })

  it('a healthy local project passes every check and exits 0; the text form says so in one screen', async () => {
    const { code, by, dir } = await doctor('lake: ./lake\n')
    expect(code).toBe(0)
    expect(Object.values(by).map((c) => [c.check, c.status])).toEqual([
      ['versions', 'pass'],
      ['config', 'pass'],
      ['credentials', 'pass'],
      ['lake', 'pass'],
      ['disk', 'pass'],
      ['stream', 'pass'],
      ['servers', 'pass'],
    ])
    const text = await weir(['doctor'], {}, dir)
    expect(text.stdout).toMatch(/^✓ versions {5}Node /m)
    expect(text.stdout.trim().split('\n').at(-1)).toBe('7 checks: 7 passed, 0 warnings, 0 failed')
  })

  it('config: a wrong config fails with its one-line error and the other checks are not run', async () => {
    const { code, by } = await doctor('lake: ./lake\nlandng: {}\n')
    expect(code).toBe(1)
    expect(by.config).toMatchObject({ status: 'fail', fix: 'correct the config (weir validate)' })
    expect(by.config!.detail).toMatch(/landng/)
    expect(by.lake).toMatchObject({ status: 'skip' })
  })

  it('credentials: a source on the simulator warns with the variable to set; a set credential passes', async () => {
    const simulated = await doctor(REST('${X_BEARER_TOKEN:-simulator}'))
    expect(simulated.code).toBe(0) // a warning is not a failure
    expect(simulated.by.credentials).toMatchObject({ status: 'warn' })
    expect(simulated.by.credentials!.detail).toMatch(/^x: no credential set/)
    expect(simulated.by.credentials!.fix).toBe(
      'set X_BEARER_TOKEN in .env beside the config or in the environment',
    )
    // The same config with the token in .env: real credentials, and the token is in no output.
    const real = await doctor(
      REST('${X_BEARER_TOKEN:-simulator}').replace('baseUrl: simulator', 'baseUrl: http://127.0.0.1:1'),
      'X_BEARER_TOKEN=tok-secret-4411\n',
    )
    expect(real.by.credentials).toMatchObject({ status: 'pass' })
    expect(JSON.stringify(real.by)).not.toContain('tok-secret-4411')
  })

  it('lake: a lake that is a file, or on a read-only disk, fails with the fix', async () => {
    const dir = await tempDir('weir-doctor-file-')
    await writeFile(join(dir, 'not-a-folder'), 'x')
    const file = await doctor(`lake: ${join(dir, 'not-a-folder')}\n`)
    expect(file.code).toBe(1)
    expect(file.by.lake).toMatchObject({ status: 'fail' })
    expect(file.by.lake!.detail).toMatch(/is not a folder$/)
    expect(file.by.lake!.fix).toMatch(/write access/)
    const disk = await smallDisk(4 * 1024 * 1024)
    if (!disk) return
    try {
      await disk.readOnly(true)
      const ro = await doctor(`lake: ${disk.dir}/lake\n`)
      expect(ro.by.lake).toMatchObject({ status: 'fail' })
      expect(ro.by.lake!.detail).toMatch(/cannot write in .* \(EROFS\)/)
    } finally {
      await disk.unmount()
    }
  })

  it('lake: an S3 lake passes with the credentials in .env, and fails on a bucket that does not exist', async () => {
    const s3 = await startS3()
    if (!s3) return
    try {
      const env = Object.entries(s3Env(s3))
        .map(([k, v]) => `${k}=${v}`)
        .join('\n')
      const ok = await doctor(`lake: s3://${s3.bucket}/lake\n`, env)
      expect(ok.by.lake).toMatchObject({
        status: 'pass',
        detail: `s3://${s3.bucket}/lake: write, read and delete work`,
      })
      expect(ok.by.disk!.detail).toMatch(/^staging /) // an S3 lake needs only the staging disk
      const missing = await doctor('lake: s3://no-such-bucket-7/lake\n', env)
      expect(missing.code).toBe(1)
      expect(missing.by.lake).toMatchObject({ status: 'fail' })
      expect(missing.by.lake!.fix).toMatch(/bucket, the region and the AWS credentials/)
    } finally {
      await s3.stop()
    }
  })

  it('disk: a lake on a disk with less than 500 MB free fails', async () => {
    const disk = await smallDisk(16 * 1024 * 1024)
    if (!disk) return
    try {
      const { code, by } = await doctor(`lake: ${disk.dir}/lake\n`)
      expect(code).toBe(1)
      expect(by.disk).toMatchObject({ status: 'fail' })
      expect(by.disk!.detail).toMatch(/^lake 1\d MB free/)
      expect(by.disk!.fix).toMatch(/at least 500 MB/)
    } finally {
      await disk.unmount()
    }
  })

  it('stream: NATS that does not answer fails with how to start it; NATS on loopback passes', async () => {
    const down = await doctor(
      `lake: ./lake\nstream: { kind: nats, url: 'nats://127.0.0.1:${await freePort()}' }\n`,
    )
    expect(down.code).toBe(1)
    expect(down.by.stream).toMatchObject({ status: 'fail' })
    expect(down.by.stream!.fix).toMatch(/nats-server -js/)
    if (!(await serviceUp('NATS', NATS, 4222, 'the passing NATS doctor check'))) return
    const up = await doctor(`lake: ./lake\nstream: { kind: nats, url: '${NATS}' }\n`)
    expect(up.by.stream).toMatchObject({ status: 'pass' })
    expect(up.by.stream!.detail).toMatch(/reachable, \d+ topics/)
  })

  it('servers: a warehouse and an alert webhook that do not answer fail, naming each; reachable ones pass', async () => {
    const port = await freePort()
    const down = await doctor(`lake: ./lake
warehouse: { postgres: { url: 'postgres://weir:pw-7731@127.0.0.1:${port}/x' } }
alerts:
  channels: { ops: { kind: webhook, url: 'http://127.0.0.1:${port}/hook' } }
`)
    expect(down.code).toBe(1)
    expect(down.by.servers).toMatchObject({ status: 'fail' })
    expect(down.by.servers!.detail).toMatch(
      /^warehouse postgres: .*ECONNREFUSED.*; channel ops http:\/\/127\.0\.0\.1:\d+\/hook: ECONNREFUSED$/,
    )
    expect(JSON.stringify(down.by)).not.toContain('pw-7731')

    const hook = createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1')
    servers.push(hook)
    await new Promise((r) => hook.once('listening', r))
    const hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`
    const pg = (await serviceUp('PostgreSQL', PG, 5432, 'the passing warehouse doctor check'))
      ? `warehouse: { postgres: { url: '${PG}' } }\n`
      : ''
    const up = await doctor(
      `lake: ./lake\n${pg}alerts:\n  channels: { ops: { kind: webhook, url: '${hookUrl}' } }\n`,
    )
    expect(up.by.servers).toMatchObject({ status: 'pass', detail: `${pg ? 2 : 1} reachable` })
    expect(up.code).toBe(0)
  })
})
