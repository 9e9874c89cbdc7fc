import { constants } from 'node:fs'
import { access, readFile, rm, stat, statfs, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { type LoadConfigOptions, type LoadedConfig, loadConfig } from '../config/load.js'
import { errorMessage } from '../core/errors.js'
import { maskUri } from '../core/redact.js'
import { formatBytes } from '../core/units.js'
import { openStore } from '../storage/registry.js'
import { parseLakeUri } from '../storage/uri.js'
import { defaultStreamDir } from '../stream/embedded/embedded-definition.js'
import { openStream } from '../stream/registry.js'
import { serversCheck, TIMEOUT_MS } from './doctor-servers.js'

export interface DoctorCheck {
  readonly check: 'versions' | 'config' | 'credentials' | 'lake' | 'disk' | 'stream' | 'servers'
  /** `warn`: works, but not as a user may think (simulated data, little disk left). */
  readonly status: 'pass' | 'warn' | 'fail' | 'skip'
  readonly detail: string
  /** What to do about a warning or a failure. */
  readonly fix?: string
}

/** Below this much free space on the lake's or the staging disk, a refine batch may not fit. */
export const MIN_FREE_BYTES = 500_000_000

/**
 * Checks what a project needs before it runs, each with a pass or a failure and its fix: Node and
 * Weir's versions, the config (and what it reads from the environment), which sources only get
 * simulated data, the lake (write, read, delete a probe), free disk, the stream and every server
 * the config names (warehouse, source APIs, alert channels). Nothing is changed but the probe.
 */
export async function doctor(options: LoadConfigOptions = {}): Promise<DoctorCheck[]> {
  const out: DoctorCheck[] = [versionsCheck(process.versions.node)]
  let loaded: LoadedConfig
  try {
    loaded = await loadConfig({ applyDotEnv: true, ...options })
  } catch (err) {
    const skip = `not checked: the config does not load`
    return [
      ...out,
      {
        check: 'config',
        status: 'fail',
        detail: errorMessage(err),
        fix: 'correct the config (weir validate)',
      },
      ...(['credentials', 'lake', 'disk', 'stream', 'servers'] as const).map((check) => ({
        check,
        status: 'skip' as const,
        detail: skip,
      })),
    ]
  }
  const { config, file } = loaded
  out.push({
    check: 'config',
    status: 'pass',
    detail: `${file ?? 'no config file (defaults)'}: ${Object.keys(config.sources).length} sources, ${Object.keys(config.tables).length} tables, lake ${maskUri(config.lake)}`,
  })
  const text = file ? await readFile(file, 'utf8').catch(() => '') : ''
  out.push(
    credentialsCheck(
      config.sources,
      [...text.matchAll(/\$\{(\w+):-simulator\}/g)].map((m) => m[1]!),
    ),
  )
  out.push(
    ...(await Promise.all([
      within('lake', lakeCheck(loaded)),
      within('disk', diskCheck(loaded)),
      within('stream', streamCheck(loaded)),
      within('servers', serversCheck(loaded)),
    ])),
  )
  return out
}

export function versionsCheck(node: string): DoctorCheck {
  const [major = 0, minor = 0] = node.split('.').map(Number)
  const ok = major > 20 || (major === 20 && minor >= 15)
  return ok
    ? { check: 'versions', status: 'pass', detail: `Node ${node}` }
    : {
        check: 'versions',
        status: 'fail',
        detail: `Node ${node} is older than Weir needs (20.15)`,
        fix: 'install Node 20.15 or newer (nodejs.org, or nvm install 20)',
      }
}

/** Sources whose credential says "simulator" get made-up data: fine for a try, not for a lake. */
export function credentialsCheck(
  sources: Readonly<Record<string, unknown>>,
  variables: readonly string[] = [],
): DoctorCheck {
  const simulated = Object.entries(sources)
    .filter(([, s]) => JSON.stringify(s).includes('"simulator"'))
    .map(([n]) => n)
  if (!simulated.length)
    return {
      check: 'credentials',
      status: 'pass',
      detail: `${Object.keys(sources).length} sources with credentials set`,
    }
  return {
    check: 'credentials',
    status: 'warn',
    detail: `${simulated.join(', ')}: no credential set, so Weir's API simulator serves made-up data`,
    fix: `set ${variables.length ? [...new Set(variables)].join(', ') : 'the credentials the config reads'} in .env beside the config or in the environment`,
  }
}

async function lakeCheck({ config, dir }: LoadedConfig): Promise<DoctorCheck> {
  const where = maskUri(config.lake)
  const lake = parseLakeUri(config.lake, dir)
  if (lake.kind === 'local')
    return folderCheck(
      'lake',
      where,
      lake.root,
      'create the folder or give this user write access to it (or set lake: to another place)',
    )
  try {
    const store = await openStore(config.lake, config.storage, dir)
    try {
      const key = `_state/doctor/${process.pid}-${Date.now()}`
      await store.put(key, 'weir doctor')
      const back = await store.getBytes(key)
      await store.delete(key)
      if (new TextDecoder().decode(back) !== 'weir doctor') throw new Error('a probe read back differently')
      return { check: 'lake', status: 'pass', detail: `${where}: write, read and delete work` }
    } finally {
      await store.close()
    }
  } catch (err) {
    return {
      check: 'lake',
      status: 'fail',
      detail: `${where}: ${errorMessage(err)}`,
      fix: 'check the bucket, the region and the AWS credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID in .env)',
    }
  }
}

async function diskCheck({ config, dir }: LoadedConfig): Promise<DoctorCheck> {
  const lake = parseLakeUri(config.lake, dir)
  const places = [...(lake.kind === 'local' ? [['lake', lake.root]] : []), ['staging', tmpdir()]]
  const free: string[] = []
  const low: string[] = []
  for (const [what, path] of places) {
    const bytes = await freeBytes(path!)
    const text = `${what} ${formatBytes(bytes)} free (${path})`
    free.push(text)
    if (bytes < MIN_FREE_BYTES) low.push(text)
  }
  return low.length
    ? {
        check: 'disk',
        status: 'fail',
        detail: low.join('; '),
        fix: `free space (at least ${formatBytes(MIN_FREE_BYTES)}), or point lake:/TMPDIR at a larger disk`,
      }
    : { check: 'disk', status: 'pass', detail: free.join('; ') }
}

/** A local folder Weir writes in (the lake, the embedded log): passes when this user can. */
async function folderCheck(
  check: DoctorCheck['check'],
  what: string,
  folder: string,
  fix: string,
): Promise<DoctorCheck> {
  const why = await unwritable(folder)
  return why
    ? { check, status: 'fail', detail: `${what}: ${why}`, fix }
    : { check, status: 'pass', detail: `${what}: writable` }
}

/**
 * Why this user cannot write in a folder, or undefined: it, or the nearest folder above it that
 * exists (Weir creates the rest), must be writable. Nothing is created.
 */
async function unwritable(folder: string): Promise<string | undefined> {
  for (let p = resolve(folder); ; p = dirname(p)) {
    const s = await stat(p).catch(() => undefined)
    if (s && !s.isDirectory()) return `${p} is not a folder`
    if (s) {
      // A read-only mount passes access() for root: an empty probe file tells.
      const probe = join(p, `.weir-doctor-${process.pid}`)
      const err = await access(p, constants.W_OK)
        .then(() => writeFile(probe, ''))
        .then(
          () => rm(probe),
          (e: NodeJS.ErrnoException) => e.code ?? e.message,
        )
      return err ? `cannot write in ${p} (${err})` : undefined
    }
    if (p === dirname(p)) return `no folder above ${folder} exists`
  }
}

/** The file system a path is on, or would be once created. */
async function freeBytes(path: string): Promise<number> {
  for (let p = resolve(path); ; p = dirname(p)) {
    const s = await statfs(p).catch(() => undefined)
    if (s) return s.bavail * s.bsize
    if (p === dirname(p)) return 0
  }
}

async function streamCheck({ config, dir }: LoadedConfig): Promise<DoctorCheck> {
  const s = config.stream
  if (s.kind === 'embedded') {
    const folder = s.dir ? resolve(dir, s.dir) : defaultStreamDir(config.lake, dir)
    return folderCheck(
      'stream',
      `embedded log ${folder}`,
      folder,
      'give this user write access to the stream folder (stream.dir)',
    )
  }
  const where = s.kind === 'nats' ? maskUri(s.url) : s.kind
  try {
    const stream = await openStream(s, { lake: config.lake, base: dir })
    try {
      const topics = await stream.topics()
      return { check: 'stream', status: 'pass', detail: `${where}: reachable, ${topics.length} topics` }
    } finally {
      await stream.close()
    }
  } catch (err) {
    return {
      check: 'stream',
      status: 'fail',
      detail: `${where}: ${errorMessage(err)}`,
      fix:
        s.kind === 'nats'
          ? 'start NATS with JetStream (nats-server -js) or correct stream.url'
          : 'check the region, the endpoint and the AWS credentials',
    }
  }
}

/** A check that hangs (a server that never answers) fails after a while instead of hanging doctor. */
async function within(name: DoctorCheck['check'], check: Promise<DoctorCheck>): Promise<DoctorCheck> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'late'>((r) => {
    timer = setTimeout(() => r('late'), TIMEOUT_MS * 3)
  })
  const r = await Promise.race([check, late])
  clearTimeout(timer)
  return r === 'late'
    ? {
        check: name,
        status: 'fail',
        detail: `no answer in ${(TIMEOUT_MS * 3) / 1000} s`,
        fix: 'check that the server named in the config is up and reachable from here',
      }
    : r
}
