import { execFile } from 'node:child_process'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSimulator } from '../../src/sources/simulator/simulator.js'
import { startSmtp } from '../alerts/helpers.js'
import { startFaultProxy } from '../helpers/fault-proxy.js'
import { tempDir } from '../helpers/services.js'

const run = promisify(execFile)
const TOKEN = 'x-token-from-dotenv-7c1e'

/**
 * Weir as a user gets it: the packed tarball installed outside this repository, globally and as a
 * project's dependency; `weir init`; a real credential in `.env`, which must reach the API (here a
 * stand-in on loopback that records what it is sent); `weir run --once`, which must pass whole
 * (models and their tests included).
 */
let tarball: string
let api: { url: string; auths: string[]; close(): Promise<void> }

beforeAll(async () => {
  const out = await tempDir('weir-pack-')
  // `npm test` has just built dist/: pack what is there, as `npm publish` would.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', out, '--json'], {
    cwd: resolve('.'),
  })
  tarball = join(out, (JSON.parse(stdout) as { filename: string }[])[0]!.filename)
  // Weir's own simulator stands in for the X API, behind a proxy that records what it is sent.
  const auths: string[] = []
  const sim = await startSimulator({ tweetsPerHour: 120 })
  // What identifies the caller: the Authorization header, or a key in the query (Tomorrow.io, TMDB).
  const proxy = await startFaultProxy(sim.url, 1, (req) =>
    auths.push(req.headers.authorization ?? '', ...new URL(req.url ?? '/', 'http://x').searchParams.values()),
  )
  api = {
    url: proxy.url,
    auths,
    close: async () => {
      await proxy.close()
      await sim.close()
    },
  }
}, 120_000)
afterAll(() => api?.close())

/** `npm install` from the tarball, from npm's cache where it can (CI's `npm ci` filled it). */
const install = (args: string[], cwd: string) =>
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', ...args], {
    cwd,
    maxBuffer: 1 << 24,
  })

/** A project made by `weir init`, with the X token in `.env` and X pointed at the stand-in. */
async function initProject(weir: string, dir: string) {
  const r = await run(weir, ['init', dir])
  expect(r.stdout).toMatch(/next: cd /)
  await writeFile(join(dir, '.env'), `X_BEARER_TOKEN=${TOKEN}\nX_API_URL=${api.url}\nTOMORROW_API_KEY=\n`)
}

describe('installed from the packed tarball, outside this repository', () => {
  it('globally: weir init, a token in .env reaches the API, the config import resolves, run --once works', async () => {
    const prefix = await tempDir('weir-global-')
    await install(['--global', '--prefix', prefix, tarball], prefix)
    const weir = join(prefix, 'bin', 'weir')
    const dir = join(await tempDir('weir-user-'), 'proj')
    await initProject(weir, dir)
    const before = api.auths.length
    const once = await run(weir, ['run', '--once'], { cwd: dir }).catch(
      (e: { code: number; stdout: string; stderr: string }) => e,
    )
    expect('code' in once ? `exit ${once.code}: ${once.stderr}` : 'exit 0').toBe('exit 0')
    expect(once.stderr).toMatch(/^weir: weather: no credential set \(it says "simulator"\)/)
    expect(api.auths.slice(before)).toContain(`Bearer ${TOKEN}`)
    const q = await run(weir, ['query', 'select count(*) as n from trusted.x_tweets', '-f', 'json'], {
      cwd: dir,
    })
    expect(JSON.parse(q.stdout)[0].n).toBeGreaterThan(0)
    // The token is nowhere in what Weir printed or kept.
    expect(JSON.stringify(once)).not.toContain(TOKEN)
    const { stdout: grep } = await run('grep', ['-rl', TOKEN, join(dir, 'lake')]).catch(() => ({
      stdout: '',
    }))
    expect(grep).toBe('')
  }, 300_000)

  it('as the project dependency package.json names: npx weir and the import resolve inside the project', async () => {
    const dir = join(await tempDir('weir-local-'), 'proj')
    const global = await tempDir('weir-global-')
    await install(['--global', '--prefix', global, tarball], global)
    await initProject(join(global, 'bin', 'weir'), dir)
    // The tarball stands in for the registry (the package is not published yet).
    await install(['--save-dev', tarball], dir)
    expect(await readdir(join(dir, 'node_modules', 'weir-lake'))).toContain('dist')
    const validate = await run('npx', ['--no-install', 'weir', 'validate'], { cwd: dir })
    expect(validate.stdout).toMatch(/^weir\.config\.ts is valid: 2 sources/)
    await mkdir(join(dir, 'scripts'), { recursive: true })
    // Node itself (not Weir's loader) resolves the package from the project.
    await writeFile(
      join(dir, 'scripts', 'check.mjs'),
      "import { defineConfig } from 'weir-lake'\nconsole.log(typeof defineConfig)\n",
    )
    expect((await run(process.execPath, ['scripts/check.mjs'], { cwd: dir })).stdout.trim()).toBe('function')
  }, 300_000)

  it('weir init --example: each example as a project of its own, its credential in .env reaching the API', async () => {
    const prefix = await tempDir('weir-global-')
    await install(['--global', '--prefix', prefix, tarball], prefix)
    const weir = join(prefix, 'bin', 'weir')
    const smtp = await startSmtp()
    try {
      const examples: [string, string][] = [
        ['x-tweets-lake', `X_BEARER_TOKEN=${TOKEN}\nX_API_URL=${api.url}\n`],
        [
          'weather-alerts',
          `TOMORROW_API_KEY=${TOKEN}\nTOMORROW_API_URL=${api.url}\nSMTP_PORT=${smtp.port}\nQUIET_FROM=00:00\nQUIET_TO=00:00\n`,
        ],
        ['movies-enrichment', `TMDB_API_KEY=${TOKEN}\nTMDB_API_URL=${api.url}\n`],
        ['x-stream-serving', `X_BEARER_TOKEN=${TOKEN}\nX_API_URL=${api.url}\nX_STREAM_RUN_FOR=3s\n`],
      ]
      for (const [example, env] of examples) {
        const dir = join(await tempDir('weir-user-'), example)
        const init = await run(weir, ['init', dir, '--example', example])
        expect(init.stdout).toMatch(
          new RegExp(`^created .* from the example ${example}: weir\\.config\\.ts, `),
        )
        expect(await readdir(dir)).toEqual(
          expect.arrayContaining(['.env.example', 'package.json', 'README.md']),
        )
        await writeFile(join(dir, '.env'), env)
        const before = api.auths.length
        const once = await run(weir, ['run', '--once'], { cwd: dir }).catch(
          (e: { code: number; stdout: string; stderr: string }) => e,
        )
        expect('code' in once ? `exit ${once.code}: ${once.stderr}` : 'exit 0', example).toBe('exit 0')
        expect(
          api.auths.slice(before).some((a) => a.includes(TOKEN)),
          example,
        ).toBe(true)
        expect(JSON.stringify(once)).not.toContain(TOKEN)
      }
      const bad = await run(weir, [
        'init',
        join(await tempDir('weir-user-'), 'p'),
        '--example',
        'nope',
      ]).catch((e: { code: number; stderr: string }) => e)
      expect(bad).toMatchObject({
        code: 1,
        stderr:
          'weir: no example nope; examples: movies-enrichment, weather-alerts, x-stream-serving, x-tweets-lake\n',
      })
    } finally {
      await smtp.close()
    }
  }, 300_000)
})
