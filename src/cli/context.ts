import { loadConfig } from '../config/load.js'
import { openPipeline, type Pipeline } from '../pipeline/pipeline.js'

/** Options every command accepts (`weir --help` lists them). */
export interface GlobalOptions {
  readonly config?: string
  readonly lake?: string
  readonly verbose?: boolean
}

/** Loads the project's config with the global flags applied and opens its pipeline; closes it after `fn`. */
export async function withPipeline<T>(globals: GlobalOptions, fn: (p: Pipeline) => Promise<T>): Promise<T> {
  const loaded = await loadConfig({
    ...(globals.config ? { file: globals.config } : {}),
    ...(globals.lake ? { lake: globals.lake } : {}),
  })
  const p = await openPipeline(loaded)
  try {
    return await fn(p)
  } finally {
    await p.close()
  }
}
