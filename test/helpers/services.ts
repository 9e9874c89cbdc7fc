import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** True when CI demands every server: a test that cannot reach its server must then fail, not skip. */
export const servicesRequired = process.env.WEIR_REQUIRE_SERVICES === '1'

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0))
    })
  })
}

export interface S3Server {
  readonly endpoint: string
  readonly bucket: string
  stop(): Promise<void>
}

/**
 * Starts s3rver (an S3 emulator, its PUTs made atomic as S3's are) as its own process on a free loopback port with one bucket.
 * Returns undefined (and says why) when it cannot start, unless WEIR_REQUIRE_SERVICES=1, where
 * that is an error. s3rver encrypts continuation tokens with DES, which OpenSSL 3 keeps in its
 * legacy provider, hence the flag.
 */
export async function startS3(bucket = 'weir-test'): Promise<S3Server | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 's3rver-'))
  const port = await freePort()
  // s3rver's command line, with PUTs made atomic as on S3 (see the wrapper).
  const bin = fileURLToPath(new URL('./s3rver-atomic.cjs', import.meta.url))
  const args = ['--openssl-legacy-provider', bin, '-d', dir, '-a', '127.0.0.1', '-p', String(port), '-s']
  const child = spawn(process.execPath, [...args, '--configure-bucket', bucket], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (d) => {
    stderr += d
  })
  const endpoint = `http://127.0.0.1:${port}`
  const stop = async () => {
    // Waited for, so the suite leaves no server behind (.ci/run checks).
    const exited = new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)))
    child.kill('SIGTERM')
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))])
    if (child.exitCode === null) child.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  }
  for (let i = 0; i < 100 && child.exitCode === null; i++) {
    if (await canConnect(port)) return { endpoint, bucket, stop }
    await new Promise((r) => setTimeout(r, 100))
  }
  await stop()
  const why = `s3rver did not start on port ${port}: ${stderr.trim().split('\n')[0] || 'no output'}`
  if (servicesRequired) throw new Error(why)
  console.warn(`skipping S3 tests: ${why}`)
  return undefined
}

function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, host)
    sock.once('connect', () => {
      sock.destroy()
      resolve(true)
    })
    sock.once('error', () => resolve(false))
  })
}

/**
 * Whether a server the machine runs (PostgreSQL, NATS) answers at `url`. When it does not, tests
 * that need it are skipped with a message saying which, except in CI (WEIR_REQUIRE_SERVICES=1),
 * where that fails.
 */
export async function serviceUp(
  name: string,
  url: string,
  defaultPort: number,
  skipping: string,
): Promise<boolean> {
  const { hostname, port } = new URL(url)
  const up = await canConnect(Number(port || defaultPort), hostname || '127.0.0.1')
  if (!up) {
    if (servicesRequired) throw new Error(`${name} is not reachable at ${url} (WEIR_REQUIRE_SERVICES=1)`)
    console.warn(`skipping ${skipping}: no ${name} at ${url}`)
  }
  return up
}

/** Environment for an S3-compatible server: the SDK's standard variables, nothing Weir-specific. */
export function s3Env(s3: S3Server): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: s3.endpoint,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
  }
}

export async function tempDir(prefix = 'weir-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix))
}

export interface KinesisServer {
  readonly endpoint: string
  stop(): Promise<void>
}

/**
 * Starts kinesalite (a Kinesis emulator, in memory) on a free loopback port, with streams active at
 * once. Returns undefined (and says why) when it cannot start, unless WEIR_REQUIRE_SERVICES=1.
 */
export async function startKinesis(): Promise<KinesisServer | undefined> {
  try {
    const kinesalite = createRequire(import.meta.url)('kinesalite') as (
      o: object,
    ) => import('node:http').Server
    const server = kinesalite({ createStreamMs: 5, deleteStreamMs: 5, updateStreamMs: 5, shardLimit: 500 })
    const port = await freePort()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', resolve)
    })
    return {
      endpoint: `http://127.0.0.1:${port}`,
      stop: () =>
        new Promise((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        }),
    }
  } catch (err) {
    const why = `kinesalite did not start: ${(err as Error).message}`
    if (servicesRequired) throw new Error(`${why} (WEIR_REQUIRE_SERVICES=1)`)
    console.warn(`skipping Kinesis tests: ${why}`)
    return undefined
  }
}

/**
 * Runs a Node script as its own process; SIGKILLs it after `killAfterMs` (a crash at a random
 * moment) or lets it finish. Resolves with its exit code, or the signal that ended it.
 */
export async function runKillable(
  script: string,
  args: readonly string[],
  killAfterMs?: number,
  env: NodeJS.ProcessEnv = {},
  /** Start the kill timer when the script prints this line (after its start-up), not at spawn. */
  readyLine?: string,
): Promise<{ code: unknown; stderr: string; readyMs?: number }> {
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', readyLine ? 'pipe' : 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  })
  let stderr = ''
  child.stderr?.on('data', (d) => {
    stderr += d
  })
  let timer: NodeJS.Timeout | undefined
  let readyAt: number | undefined
  const arm = () => {
    if (killAfterMs !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs)
  }
  if (readyLine) {
    let out = ''
    child.stdout?.on('data', (d) => {
      if (readyAt !== undefined) return
      out += d
      if (out.split('\n').includes(readyLine)) {
        readyAt = performance.now()
        arm()
      }
    })
  } else arm()
  const code = await new Promise((r) => child.on('close', (c, sig) => r(sig ?? c)))
  clearTimeout(timer)
  return { code, stderr, ...(readyAt !== undefined ? { readyMs: performance.now() - readyAt } : {}) }
}
