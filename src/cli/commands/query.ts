import { type GlobalOptions, withPipeline } from '../context.js'
import { type Format, writeRows } from '../output.js'

/** `weir query "<sql>"`: SQL over every catalog table, zones as schemas; results stream to stdout. */
export async function queryCommand(
  sql: string,
  opts: { format: Format },
  globals: GlobalOptions,
): Promise<void> {
  await withPipeline(globals, async (p) => {
    await writeRows(await p.queryStream(sql), opts.format, write)
  })
}

/** Writes to stdout and waits while its buffer is full, so a large export stays in bounded memory. */
function write(text: string): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(text)) resolve()
    else process.stdout.once('drain', resolve)
  })
}
