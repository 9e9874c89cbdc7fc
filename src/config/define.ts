import type { WeirConfigInput } from './schema.js'

/**
 * Types a `weir.config.ts` without changing it; validation happens when Weir loads the file.
 *
 * @example
 * import { defineConfig } from 'weir-lake'
 * export default defineConfig({ lake: './lake', sources: { x: { kind: 'demo', dataset: 'x' } } })
 */
export function defineConfig(config: WeirConfigInput): WeirConfigInput {
  return config
}
