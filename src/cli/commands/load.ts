import { endProgress, type GlobalOptions, withPipeline } from '../context.js'
import { renderRows } from '../output.js'
import { recorded } from './record.js'

/** `weir load postgres [--url] [--schema] [--select m...] [--full-refresh]`. */
export async function loadCommand(
  opts: { url?: string; schema?: string; select?: string[]; fullRefresh?: boolean },
  globals: GlobalOptions,
): Promise<void> {
  await withPipeline(
    globals,
    async (p) => {
      const results = await recorded(
        p,
        'warehouse',
        'weir load postgres',
        () =>
          p.loadPostgres({
            ...(opts.url ? { url: opts.url } : {}),
            ...(opts.schema ? { schema: opts.schema } : {}),
            ...(opts.select ? { select: opts.select } : {}),
            ...(opts.fullRefresh ? { fullRefresh: true } : {}),
          }),
        (r) => ({ records: r.reduce((n, x) => n + x.changed, 0), files: r.length }),
      )
      const columns = ['table', 'mode', 'rows', 'changed', 'added_columns', 'seconds'].map((name) => ({
        name,
        type: '',
      }))
      const rows = results.map((r) => ({
        table: r.table,
        mode: r.mode,
        rows: r.rows,
        changed: r.changed,
        added_columns: r.added.join(', ') || null,
        seconds: r.seconds.toFixed(2),
      }))
      endProgress()
      process.stdout.write(
        `${rows.length ? renderRows({ columns, rows }, 'table') : '(no refined tables: run weir model first)'}\n`,
      )
    },
    { progress: true },
  )
}
