import { loadConfig } from '../config/load.js'
import { openPipeline, type Pipeline } from '../pipeline/pipeline.js'
import { log } from './log.js'
import { progressDrawer } from './progress.js'

/** Options every command accepts (`weir --help` lists them). */
export interface GlobalOptions {
  readonly config?: string
  readonly lake?: string
  readonly verbose?: boolean
}

/**
 * Loads the project's config with the global flags applied and opens its pipeline; closes it after
 * `fn`. With `progress`, long stages draw their progress on a terminal (see progressDrawer).
 */
export async function withPipeline<T>(
  globals: GlobalOptions,
  fn: (p: Pipeline) => Promise<T>,
  options: { readonly progress?: boolean } = {},
): Promise<T> {
  const loaded = await loadConfig({
    applyDotEnv: true,
    ...(globals.config ? { file: globals.config } : {}),
    ...(globals.lake ? { lake: globals.lake } : {}),
  })
  const drawer = options.progress ? await progressDrawer(log()) : undefined
  drawing = drawer
  const p = await openPipeline(loaded, {
    onNote: (line) => log().say('warn', line),
    ...(drawer ? { onProgress: drawer.update } : {}),
  })
  try {
    return await fn(p)
  } finally {
    drawer?.stop()
    await p.close()
  }
}

let drawing: { stop(): void } | undefined

/** Clears the progress bars before a command prints its result table (straight to stdout). */
export function endProgress(): void {
  drawing?.stop()
}

let interrupt: AbortController | undefined

/**
 * A signal aborted by the first Ctrl+C or SIGTERM: stages finish the batch in hand, make it durable
 * and stop. A second Ctrl+C quits at once (nothing is lost either way: progress is only ever saved
 * after output is durable).
 */
export function interruption(): AbortSignal {
  if (!interrupt) {
    const ac = new AbortController()
    interrupt = ac
    const stop = () => {
      if (ac.signal.aborted) process.exit(130)
      process.stderr.write(
        'weir: stopping: no new request, batches in hand made durable (press Ctrl+C again to quit now)\n',
      )
      ac.abort()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  }
  return interrupt.signal
}
