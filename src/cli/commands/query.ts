import { type GlobalOptions, withPipeline } from '../context.js'
import { type Format, renderRows } from '../output.js'

/** `weir query "<sql>"`: SQL over every catalog table, zones as schemas. */
export async function queryCommand(
  sql: string,
  opts: { format: Format },
  globals: GlobalOptions,
): Promise<void> {
  await withPipeline(globals, async (p) => {
    const result = await p.query(sql)
    process.stdout.write(`${renderRows(result, opts.format)}\n`)
  })
}
