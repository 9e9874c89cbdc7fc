import { relative } from 'node:path'
import { loadConfig } from '../../config/load.js'
import type { GlobalOptions } from '../context.js'

/**
 * `weir validate`: loads the config as every command does (with `.env`), which checks it whole,
 * and says what it found. A mistake is the one-line error every command gives, and exit 1.
 */
export async function validateCommand(globals: GlobalOptions): Promise<void> {
  const { config, file } = await loadConfig({
    applyDotEnv: true,
    ...(globals.config ? { file: globals.config } : {}),
    ...(globals.lake ? { lake: globals.lake } : {}),
  })
  const n = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`
  process.stdout.write(
    `${file ? relative(process.cwd(), file) || file : '(no config file: defaults)'} is valid: ${[
      n(Object.keys(config.sources).length, 'source'),
      n(Object.keys(config.tables).length, 'table setting'),
      n(Object.keys(config.alerts.rules).length, 'alert rule'),
      n(Object.keys(config.serve.tables).length, 'served table'),
      `lake ${config.lake}`,
      `stream ${config.stream.kind}`,
    ].join(', ')}\n`,
  )
}
