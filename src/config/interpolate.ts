import { WeirError } from '../core/errors.js'

const VAR = /\$(\$)?\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of a config with values from `env`;
 * `$${VAR}` stays as the literal text `${VAR}`. Functions and other non-plain values pass through.
 * A variable that is unset and has no default fails with the key path that needs it.
 *
 * @example interpolate({ auth: { bearer: '${X_TOKEN}' } }, { X_TOKEN: 'abc' }, 'weir.yaml')
 */
export function interpolate(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  file: string,
  /** Filled with the key paths (`engine.threads`) whose values came from the environment. */
  fromEnv?: Set<string>,
  /** Told each value taken from the environment (not a default). */
  onValue?: (value: string) => void,
): unknown {
  return walk(value, env, file, [], fromEnv, onValue)
}

function walk(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  file: string,
  path: string[],
  fromEnv: Set<string> | undefined,
  onValue?: (value: string) => void,
): unknown {
  if (typeof value === 'string') {
    const out = substitute(value, env, file, path, onValue)
    if (out !== value && fromEnv && VAR.test(value)) fromEnv.add(path.join('.'))
    VAR.lastIndex = 0
    return out
  }
  if (Array.isArray(value))
    return value.map((v, i) => walk(v, env, file, [...path, String(i)], fromEnv, onValue))
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = walk(v, env, file, [...path, k], fromEnv, onValue)
    return out
  }
  return value
}

function substitute(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  file: string,
  path: string[],
  onValue?: (value: string) => void,
) {
  return text.replace(
    VAR,
    (whole, escaped: string | undefined, name: string, fallback: string | undefined) => {
      if (escaped) return whole.slice(1)
      const v = env[name]
      if (v !== undefined && v !== '') {
        onValue?.(v)
        return v
      }
      if (fallback !== undefined) return fallback
      throw new WeirError(
        `${file}: ${path.join('.') || '(root)'}: environment variable ${name} is not set; set it (or put it in .env), or write \${${name}:-default}`,
        { code: 'CONFIG_ENV_MISSING', stage: 'config' },
      )
    },
  )
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}
