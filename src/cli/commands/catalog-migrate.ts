import { listTables } from '../../catalog/catalog.js'
import { WeirError } from '../../core/errors.js'
import { parseDuration } from '../../core/units.js'
import { type GlobalOptions, withPipeline } from '../context.js'
import { renderRows } from '../output.js'

/**
 * `weir catalog migrate [table...]`: each trusted table to the format its config gives it. The
 * config says first, so that refine keeps the table in that format afterwards.
 */
export async function catalogMigrate(tables: string[], globals: GlobalOptions): Promise<void> {
  const { migrateTable } = await import('../../catalog/iceberg/migrate.js')
  await withPipeline(globals, async (p) => {
    const all = await listTables(p.store, 'trusted')
    const missing = tables.filter((n) => !all.some((t) => t.name === n))
    if (missing.length)
      throw new WeirError(`catalog migrate: ${missing.join(', ')}: no trusted table of that name`, {
        code: 'CATALOG_NOT_FOUND',
        stage: 'cli',
      })
    const settings = (t: (typeof all)[number]) => p.config.tables[`${t.source}.${t.resource}`]
    const wanted = (t: (typeof all)[number]) => settings(t)?.format ?? 'iceberg'
    const chosen = all.filter((t) =>
      tables.length ? tables.includes(t.name) : wanted(t) !== (t.iceberg ? 'iceberg' : 'parquet'),
    )
    const engine = await p.engine()
    const rows = []
    for (const t of chosen) {
      const retention = settings(t)?.retention
      const r = await migrateTable(
        p.store,
        engine,
        t,
        wanted(t),
        retention ? parseDuration(retention) : undefined,
      )
      rows.push({ ...r, action: r.from === r.to ? 'unchanged' : 'converted' })
    }
    const columns = ['table', 'from', 'to', 'files', 'action'].map((name) => ({ name, type: '' }))
    process.stdout.write(
      `${rows.length ? renderRows({ columns, rows }, 'table') : '(every trusted table is in the format the config gives it: set tables.<source>.<resource>.format to convert one)'}\n`,
    )
  })
}
