import type { GlueClient, PartitionInput, StorageDescriptor, TableInput } from '@aws-sdk/client-glue'
import { WeirError } from '../core/errors.js'
import type { ObjectStore } from '../storage/storage.js'
import { listTables, type TableEntry } from './catalog.js'
import { icebergInput, tableInput } from './glue-tables.js'
import { loadTable, metadataKey } from './iceberg/read.js'

export interface GlueSyncOptions {
  /** Where the lake is for Athena and Spark (`s3://bucket/prefix`, no trailing slash). */
  readonly root: string
  /** Glue database per zone: `<prefix><zone>` (default prefix: none, so `trusted` and `refined`). */
  readonly databasePrefix?: string
  /**
   * Partition projection on `dt` instead of registered partitions: Athena computes the days, so
   * nothing needs registering as days arrive (Spark and Trino through Glue do not project).
   */
  readonly projection?: boolean
  /** Only these tables (`x_tweets` or `trusted.x_tweets`); every Parquet table when absent. */
  readonly only?: readonly string[]
}

export interface GlueSyncResult {
  readonly database: string
  readonly table: string
  readonly action: 'created' | 'updated' | 'unchanged'
  readonly partitionsAdded: number
  readonly partitionsRemoved: number
}

/**
 * Registers the lake's Parquet tables (trusted and refined zones) in the AWS Glue Data Catalog, so
 * Athena, Redshift Spectrum, EMR and Glue jobs query them with no crawler: one database per zone,
 * each table's columns from Weir's catalog, and its `dt` partitions added and removed to match the
 * table's live files (or, with `projection`, projected by Athena). A table with Iceberg metadata is
 * registered as an Iceberg table at its current metadata version instead. Running it again changes
 * only what differs, so it is safe after every refine.
 */
export async function syncGlue(
  store: ObjectStore,
  glue: GlueClient,
  opts: GlueSyncOptions,
): Promise<GlueSyncResult[]> {
  const sdk = await import('@aws-sdk/client-glue')
  const root = opts.root.replace(/\/+$/, '')
  const tables = (await listTables(store)).filter(
    (t) =>
      t.format === 'parquet' &&
      t.zone !== 'raw' &&
      (!opts.only || opts.only.includes(t.name) || opts.only.includes(`${t.zone}.${t.name}`)),
  )
  const g = glueCalls(sdk, glue)
  const databases = new Set<string>()
  const out: GlueSyncResult[] = []
  for (const t of tables) {
    const database = `${opts.databasePrefix ?? ''}${t.zone}`
    if (!databases.has(database)) {
      await ensureDatabase(g, database, `Weir lake ${root}, ${t.zone} zone`)
      databases.add(database)
    }
    const location = `${root}/${t.location}`
    const iceberg = t.iceberg ? await loadTable(store, t.location) : undefined
    const input = iceberg
      ? icebergInput(t, location, `${root}/${metadataKey(t.location, iceberg.version)}`)
      : tableInput(t, location, opts.projection ?? false)
    const action = await syncTable(g, database, t.name, input)
    const { added, removed } =
      !iceberg && t.partitioning.includes('dt') && !opts.projection
        ? await syncPartitions(g, database, t, input, location)
        : { added: 0, removed: 0 }
    out.push({ database, table: t.name, action, partitionsAdded: added, partitionsRemoved: removed })
  }
  return out
}

/** Whether Glue's table differs from what Weir would register (columns, location, parameters). */
function differs(
  have: { StorageDescriptor?: StorageDescriptor; Parameters?: Record<string, string> },
  want: TableInput,
): boolean {
  const cols = (sd?: StorageDescriptor) => JSON.stringify((sd?.Columns ?? []).map((c) => [c.Name, c.Type]))
  if (cols(have.StorageDescriptor) !== cols(want.StorageDescriptor)) return true
  if (have.StorageDescriptor?.Location !== want.StorageDescriptor?.Location) return true
  const params = have.Parameters ?? {}
  const wanted = want.Parameters ?? {}
  // Glue adds parameters of its own; only Weir's and projection's are compared.
  const keys = new Set([
    ...Object.keys(wanted),
    ...Object.keys(params).filter((k) => k.startsWith('projection.') || k.startsWith('weir.')),
  ])
  return [...keys].some((k) => params[k] !== wanted[k])
}

function failed(
  errors: readonly { ErrorDetail?: { ErrorCode?: string; ErrorMessage?: string } }[] | undefined,
  what: string,
  harmless: string,
): void {
  const real = (errors ?? []).filter((e) => e.ErrorDetail?.ErrorCode !== harmless)
  if (real.length) {
    const d = real[0]!.ErrorDetail
    throw new WeirError(
      `catalog sync-glue: ${what}: ${real.length} failed, first: ${d?.ErrorCode}: ${d?.ErrorMessage}`,
      { code: 'GLUE_SYNC', stage: 'catalog' },
    )
  }
}

type GlueSdk = typeof import('@aws-sdk/client-glue')
type GlueCalls = ReturnType<typeof glueCalls>

/** Glue calls whose failure is one line naming what failed (and, when denied, the permissions needed). */
function glueCalls(sdk: GlueSdk, glue: GlueClient) {
  const call = async <T>(what: string, send: () => Promise<T>): Promise<T> => {
    try {
      return await send()
    } catch (err) {
      const e = err as { name?: string; message?: string }
      throw new WeirError(
        `catalog sync-glue: ${what} failed: ${e.name ?? 'Error'}: ${e.message ?? String(err)}${e.name === 'AccessDeniedException' ? '; the credentials need glue:GetTable, CreateTable, UpdateTable, GetPartitions, BatchCreatePartition and BatchDeletePartition' : ''}`,
        { code: 'GLUE_SYNC', stage: 'catalog', cause: err },
      )
    }
  }
  const notFound = (err: unknown) =>
    err instanceof WeirError && (err.cause as { name?: string })?.name === 'EntityNotFoundException'
  return { sdk, glue, call, notFound }
}

async function ensureDatabase(g: GlueCalls, database: string, description: string): Promise<void> {
  try {
    await g.call(`get database ${database}`, () =>
      g.glue.send(new g.sdk.GetDatabaseCommand({ Name: database })),
    )
  } catch (err) {
    if (!g.notFound(err)) throw err
    await g.call(`create database ${database}`, () =>
      g.glue.send(
        new g.sdk.CreateDatabaseCommand({ DatabaseInput: { Name: database, Description: description } }),
      ),
    )
  }
}

/** Creates the table, or updates it when its definition differs. */
async function syncTable(
  g: GlueCalls,
  database: string,
  name: string,
  input: TableInput,
): Promise<GlueSyncResult['action']> {
  let existing: { StorageDescriptor?: StorageDescriptor; Parameters?: Record<string, string> } | undefined
  try {
    existing = (
      await g.call(`get table ${database}.${name}`, () =>
        g.glue.send(new g.sdk.GetTableCommand({ DatabaseName: database, Name: name })),
      )
    ).Table
  } catch (err) {
    if (!g.notFound(err)) throw err
  }
  let action: GlueSyncResult['action'] = 'unchanged'
  if (!existing) {
    await g.call(`create table ${database}.${name}`, () =>
      g.glue.send(new g.sdk.CreateTableCommand({ DatabaseName: database, TableInput: input })),
    )
    action = 'created'
  } else if (differs(existing, input)) {
    // Every UpdateTable is a new table version in Glue: only when something changed.
    await g.call(`update table ${database}.${name}`, () =>
      g.glue.send(new g.sdk.UpdateTableCommand({ DatabaseName: database, TableInput: input })),
    )
    action = 'updated'
  }
  return action
}

/** Adds the `dt` partitions the table's live files have and Glue lacks, and removes the others. */
async function syncPartitions(
  g: GlueCalls,
  database: string,
  t: TableEntry,
  input: TableInput,
  location: string,
): Promise<{ added: number; removed: number }> {
  const wanted = new Set(
    (t.files ?? []).map((k) => /\/dt=([^/]+)\//.exec(k)?.[1]).filter((d): d is string => !!d),
  )
  const have = new Set<string>()
  let token: string | undefined
  do {
    const page = await g.call(`get partitions of ${database}.${t.name}`, () =>
      g.glue.send(
        new g.sdk.GetPartitionsCommand({
          DatabaseName: database,
          TableName: t.name,
          ...(token ? { NextToken: token } : {}),
        }),
      ),
    )
    for (const p of page.Partitions ?? []) if (p.Values?.[0]) have.add(p.Values[0])
    token = page.NextToken
  } while (token)
  const add: PartitionInput[] = [...wanted]
    .filter((d) => !have.has(d))
    .sort()
    .map((d) => ({
      Values: [d],
      StorageDescriptor: { ...input.StorageDescriptor, Location: `${location}dt=${d}/` },
    }))
  for (let i = 0; i < add.length; i += 100) {
    const r = await g.call(`add partitions to ${database}.${t.name}`, () =>
      g.glue.send(
        new g.sdk.BatchCreatePartitionCommand({
          DatabaseName: database,
          TableName: t.name,
          PartitionInputList: add.slice(i, i + 100),
        }),
      ),
    )
    failed(r.Errors, `add partitions to ${database}.${t.name}`, 'AlreadyExistsException')
  }
  const drop = [...have].filter((d) => !wanted.has(d)).sort()
  for (let i = 0; i < drop.length; i += 25) {
    const r = await g.call(`remove partitions of ${database}.${t.name}`, () =>
      g.glue.send(
        new g.sdk.BatchDeletePartitionCommand({
          DatabaseName: database,
          TableName: t.name,
          PartitionsToDelete: drop.slice(i, i + 25).map((d) => ({ Values: [d] })),
        }),
      ),
    )
    failed(r.Errors, `remove partitions of ${database}.${t.name}`, 'EntityNotFoundException')
  }
  return { added: add.length, removed: drop.length }
}
