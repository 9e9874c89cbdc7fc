import { resolve } from 'node:path'
import { getTable, listTables, type TableEntry, ZONES, type Zone } from '../../catalog/catalog.js'
import { type Dialect, tableDdl } from '../../catalog/ddl.js'
import { WeirError } from '../../core/errors.js'
import type { ObjectStore } from '../../storage/storage.js'
import { type GlobalOptions, withPipeline } from '../context.js'
import { type Format, renderRows } from '../output.js'

/** `weir catalog ls`: every table of every zone, with its location and columns. */
export async function catalogLs(
  opts: { format: Format; zone?: Zone },
  globals: GlobalOptions,
): Promise<void> {
  await withPipeline(globals, async (p) => {
    const tables = await listTables(p.store, opts.zone)
    if (opts.format === 'json') {
      process.stdout.write(`${JSON.stringify(tables.map((t) => ({ table: `${t.zone}.${t.name}`, ...t })))}\n`)
      return
    }
    const rows = tables.map((t) => ({
      table: `${t.zone}.${t.name}`,
      format: t.format,
      location: t.location,
      partitioning: t.partitioning.join('/'),
      columns: t.columns.length,
      updated: t.updatedAt,
    }))
    const columns = ['table', 'format', 'location', 'partitioning', 'columns', 'updated'].map((name) => ({
      name,
      type: '',
    }))
    process.stdout.write(`${renderRows({ columns, rows }, opts.format)}\n`)
  })
}

/** Finds `zone.table` (zone defaults to trusted) in the catalog, or says what to do. */
async function findTable(store: ObjectStore, name: string): Promise<TableEntry> {
  const [zone, table] = name.includes('.') ? (name.split('.', 2) as [string, string]) : ['trusted', name]
  if (!ZONES.includes(zone as Zone)) {
    throw new WeirError(`"${name}": zone must be one of ${ZONES.join(', ')} (e.g. trusted.x_tweets)`, {
      code: 'CATALOG_BAD_NAME',
      stage: 'catalog',
    })
  }
  const t = await getTable(store, zone as Zone, table)
  if (!t) {
    throw new WeirError(
      `table ${zone}.${table} is not in the catalog of ${store.uri}; see \`weir catalog ls\``,
      {
        code: 'CATALOG_NOT_FOUND',
        stage: 'catalog',
      },
    )
  }
  return t
}

/** `weir catalog ddl <zone.table> --dialect duckdb|athena|trino|redshift [--location s3://...] [--iam-role arn]`. */
export async function catalogDdl(
  name: string,
  opts: { dialect: Dialect; location?: string; iamRole?: string },
  globals: GlobalOptions,
): Promise<void> {
  await withPipeline(globals, async (p) => {
    const t = await findTable(p.store, name)
    const root = opts.location ?? (p.store.localPath ? resolve(p.store.localPath('')) : p.store.uri)
    process.stdout.write(tableDdl(t, opts.dialect, root, opts.iamRole ? { iamRole: opts.iamRole } : {}))
  })
}

/** `weir catalog history <zone.table>`: the schema's versions, with what changed and where. */
export async function catalogHistory(
  name: string,
  opts: { format: Format },
  globals: GlobalOptions,
): Promise<void> {
  await withPipeline(globals, async (p) => {
    const t = await findTable(p.store, name)
    const versions = t.versions ?? [
      { version: 1, columns: t.columns, firstFile: '', at: t.updatedAt, changes: [] },
    ]
    if (opts.format === 'json') {
      process.stdout.write(`${JSON.stringify(versions)}\n`)
      return
    }
    const columns = ['version', 'at', 'columns', 'first_file', 'changes'].map((n) => ({ name: n, type: '' }))
    const rows = versions.map((v) => ({
      version: v.version,
      at: v.at,
      columns: v.columns.length,
      first_file: v.firstFile || null,
      changes: v.changes.join('; ') || null,
    }))
    process.stdout.write(`${t.zone}.${t.name}\n${renderRows({ columns, rows }, opts.format)}\n`)
  })
}

/** `weir catalog describe <zone.table>`: one table's columns and settings. */
export async function catalogDescribe(
  name: string,
  opts: { format: Format },
  globals: GlobalOptions,
): Promise<void> {
  await withPipeline(globals, async (p) => {
    const t = await findTable(p.store, name)
    if (opts.format === 'json') {
      process.stdout.write(`${JSON.stringify(t)}\n`)
      return
    }
    const format = t.iceberg ? 'iceberg' : t.format
    const head = `${t.zone}.${t.name}  ${format}  ${p.store.uri}/${t.location}  partitioned by ${t.partitioning.join('/') || '-'}${t.primaryKey ? `  key ${t.primaryKey.join(', ')}` : ''}`
    // The descriptions the models' YAML gave the catalog, where there are any.
    const described = t.columns.some((c) => c.description)
    const columns = ['column', 'type', ...(described ? ['description'] : [])].map((name) => ({
      name,
      type: '',
    }))
    const rows = t.columns.map((c) => ({
      column: c.name,
      type: c.type,
      ...(described ? { description: c.description ?? '' } : {}),
    }))
    const about = t.description ? `${t.description}\n` : ''
    process.stdout.write(`${head}\n${about}${renderRows({ columns, rows }, opts.format)}\n`)
  })
}

/** `weir catalog sync-glue [table...]`: register the Parquet tables and their partitions in AWS Glue. */
export async function catalogSyncGlue(
  tables: string[],
  opts: {
    location?: string
    databasePrefix?: string
    projection?: boolean
    region?: string
    endpoint?: string
  },
  globals: GlobalOptions,
): Promise<void> {
  await withPipeline(globals, async (p) => {
    const { glueSync } = await import('../../pipeline/stages/glue.js')
    const results = await glueSync(p, { ...opts, ...(tables.length ? { only: tables } : {}) })
    const columns = ['database', 'table', 'action', 'partitions_added', 'partitions_removed'].map((name) => ({
      name,
      type: '',
    }))
    const rows = results.map((r) => ({
      database: r.database,
      table: r.table,
      action: r.action,
      partitions_added: r.partitionsAdded,
      partitions_removed: r.partitionsRemoved,
    }))
    process.stdout.write(
      `${rows.length ? renderRows({ columns, rows }, 'table') : '(no Parquet tables to register: refine first)'}\n`,
    )
  })
}
