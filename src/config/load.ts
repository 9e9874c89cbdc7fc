import { existsSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, extname, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseEnv } from 'node:util'
import { errorMessage, WeirError } from '../core/errors.js'
import { parseLakeUri } from '../storage/uri.js'
import { formatIssues } from './format-issues.js'
import { interpolate } from './interpolate.js'
import { configSchema, type WeirConfig } from './schema.js'
import { registerConfigSecrets } from './secrets.js'

/** This package's entry point (the built `index.js`, or `index.ts` when run from source). */
const SELF = ((js) => (existsSync(js) ? js : js.replace(/\.js$/, '.ts')))(
  fileURLToPath(new URL('../index.js', import.meta.url)),
)

/** The files Weir looks for, in order, when `--config` is not given. */
export const CONFIG_FILES = [
  'weir.config.ts',
  'weir.config.mts',
  'weir.config.js',
  'weir.config.mjs',
  'weir.yaml',
  'weir.yml',
  'weir.json',
] as const

export interface LoadConfigOptions {
  /** An explicit config file (`--config`); it must exist. */
  readonly file?: string
  /** Where to look for a config and `.env`; defaults to the current directory. */
  readonly cwd?: string
  /** Overrides `lake` (`--lake`). */
  readonly lake?: string
  /** Environment used for `${VAR}`; defaults to `process.env` (plus `.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>
  /**
   * Put `.env`'s variables into `process.env` (the real environment still wins) before the config
   * is evaluated, so `process.env.X` in `weir.config.ts`, sources' code and the AWS SDK see them, as
   * the CLI does. Off by default: a library call does not change its process's environment.
   */
  readonly applyDotEnv?: boolean
}

export interface LoadedConfig {
  readonly config: WeirConfig
  /** The file it came from, or undefined when defaults were used. */
  readonly file: string | undefined
  /** Relative paths in the config resolve against this directory. */
  readonly dir: string
}

/**
 * Finds, reads, interpolates and validates the project's config (`weir.config.ts`, `weir.yaml` or `weir.json`).
 * Without a file it returns the defaults, so `weir query --lake ./lake` works anywhere.
 *
 * @example const { config } = await loadConfig({ lake: 's3://bucket/lake' })
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const cwd = resolve(options.cwd ?? process.cwd())
  const file = options.file
    ? resolve(cwd, options.file)
    : CONFIG_FILES.map((f) => resolve(cwd, f)).find(existsSync)
  if (options.file && (!file || !existsSync(file))) {
    throw new WeirError(`config file ${options.file} not found (looked in ${cwd})`, {
      code: 'CONFIG_NOT_FOUND',
      stage: 'config',
    })
  }
  const dir = file ? dirname(file) : cwd
  const dotEnv = readDotEnv(dir)
  if (options.applyDotEnv) for (const [k, v] of Object.entries(dotEnv)) process.env[k] ??= v
  const env = options.env ?? { ...dotEnv, ...process.env }
  const label = file ? relative(cwd, file) || file : '(defaults)'
  const raw = file ? await readConfigFile(file, label) : {}
  // A --lake path is relative to where the user typed it, not to the config file.
  const lake =
    options.lake && parseLakeUri(options.lake, cwd).kind === 'local'
      ? resolve(cwd, options.lake)
      : options.lake
  const withLake = lake ? { ...(raw as object), lake } : raw
  const fromEnv = new Set<string>()
  const taken: string[] = []
  const interpolated = interpolate(withLake, env, label, fromEnv, (v) => taken.push(v))
  // Before validation: a secret in a wrong place must not come back in its error.
  registerConfigSecrets(interpolated, taken)
  const parsed = configSchema.safeParse(interpolated)
  if (!parsed.success) {
    const lines = formatIssues(parsed.error.issues, interpolated, fromEnv)
    throw new WeirError(`${label}: invalid config: ${lines.join('; ')}`, {
      code: 'CONFIG_INVALID',
      stage: 'config',
    })
  }
  return { config: parsed.data, file, dir }
}

async function readConfigFile(file: string, label: string): Promise<unknown> {
  const ext = extname(file)
  try {
    if (ext === '.json') return JSON.parse(await readFile(file, 'utf8'))
    if (ext === '.yaml' || ext === '.yml') {
      const { parse } = await import('yaml')
      return parse(await readFile(file, 'utf8')) ?? {}
    }
    // jiti compiles TypeScript configs on the fly, so users need no build step for weir.config.ts.
    // `import { defineConfig } from 'weir-lake'` resolves to the Weir that runs the config, whether
    // or not the project has it in node_modules (a global install, a copied folder).
    const { createJiti } = await import('jiti')
    const jiti = createJiti(import.meta.url, {
      moduleCache: false,
      fsCache: false,
      alias: { 'weir-lake': SELF, weir: SELF },
    })
    const mod = await jiti.import<unknown>(file, { default: true })
    return typeof mod === 'function' ? await (mod as () => unknown)() : mod
  } catch (err) {
    throw new WeirError(`${label}: cannot read config: ${errorMessage(err).split('\n')[0]}`, {
      code: 'CONFIG_UNREADABLE',
      stage: 'config',
      cause: err,
    })
  }
}

/** Variables from `<dir>/.env`; they never override the real environment. */
function readDotEnv(dir: string): Record<string, string> {
  const file = resolve(dir, '.env')
  if (!existsSync(file)) return {}
  return parseEnv(readFileSync(file, 'utf8')) as Record<string, string>
}
