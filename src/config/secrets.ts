import { registerSecret } from '../core/redact.js'

/** Keys whose values are credentials wherever they appear (auth blocks, alert channels, headers). */
const SECRET_KEY =
  /^(bearer|token|api[-_]?key|x-api-key|authorization|password|passwd|pass|secret|client[-_]?secret|auth[-_]?token|secret[-_]?access[-_]?key|session[-_]?token|access[-_]?token)$/i

/**
 * Registers what a config holds that must never be printed: values of credential keys (and API keys
 * under `keys`), and values taken from the environment that could be one. Paths and short values
 * taken from the environment are not: they name places and settings a user needs to see.
 */
export function registerConfigSecrets(config: unknown, fromEnvironment: readonly string[]): void {
  for (const v of fromEnvironment) {
    if (v.length < 8 || /^(\.{0,2}\/|~)/.test(v) || /^\d+(\.\d+)?$/.test(v)) continue
    registerSecret(v)
  }
  walk(config, [])
}

function walk(value: unknown, path: readonly string[]): void {
  if (typeof value === 'string') {
    const key = path.at(-1) ?? ''
    const apiKey = key === 'key' && path.includes('keys')
    // 'simulator' is the placeholder the scaffold and examples use until a real credential is set.
    if ((SECRET_KEY.test(key) || apiKey) && value !== 'simulator') registerSecret(value)
    // A URL anywhere may carry a password.
    else if (value.includes('@') && value.includes('://')) registerSecret(value)
    return
  }
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) walk(v, [...path, String(i)])
  } else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) walk(v, [...path, k])
}
