import { listTables } from '../../catalog/catalog.js'
import type { GlueSyncResult } from '../../catalog/glue.js'
import { WeirError } from '../../core/errors.js'
import type { RefineResult } from '../../refine/refine.js'
import type { Resources } from '../resources.js'

/** Where and how tables are registered in Glue: the config's `catalog.glue`, or the CLI's options. */
export interface GlueSettings {
  readonly location?: string | undefined
  readonly databasePrefix?: string | undefined
  readonly projection?: boolean | undefined
  readonly region?: string | undefined
  readonly endpoint?: string | undefined
}

/** Registers the lake's trusted and refined tables (or `only`) in Glue, as `weir catalog sync-glue`. */
export async function glueSync(
  p: Pick<Resources, 'store' | 'config'>,
  opts: GlueSettings & { readonly only?: readonly string[] },
): Promise<GlueSyncResult[]> {
  const root = opts.location ?? (p.store.uri.startsWith('s3://') ? p.store.uri : undefined)
  if (!root?.startsWith('s3://')) {
    throw new WeirError(
      `catalog sync-glue: Glue tables point at S3, and ${opts.location ? `--location ${opts.location}` : `the lake ${p.store.uri}`} is not in S3; pass --location s3://bucket/prefix where the lake's files are`,
      { code: 'GLUE_LOCATION', stage: 'catalog' },
    )
  }
  const { GlueClient } = await import('@aws-sdk/client-glue')
  const { syncGlue } = await import('../../catalog/glue.js')
  const endpoint = opts.endpoint ?? process.env.AWS_ENDPOINT_URL_GLUE ?? process.env.AWS_ENDPOINT_URL
  const glue = new GlueClient({
    region:
      opts.region ??
      p.config.storage.s3.region ??
      process.env.AWS_REGION ??
      process.env.AWS_DEFAULT_REGION ??
      'us-east-1',
    ...(endpoint ? { endpoint } : {}),
  })
  try {
    return await syncGlue(p.store, glue, {
      root,
      ...(opts.databasePrefix ? { databasePrefix: opts.databasePrefix } : {}),
      ...(opts.projection ? { projection: true } : {}),
      ...(opts.only ? { only: opts.only } : {}),
    })
  } finally {
    glue.destroy()
  }
}

/** The raw tables a refine pass changed the trusted tables of. */
export const changedTables = (results: readonly RefineResult[]) =>
  results.filter((r) => r.files > 0 || r.replaced > 0).map((r) => r.table)

/**
 * After a refine, with `catalog.glue` set: the trusted tables of the raw tables named (and their
 * child tables), or every table, registered again, so an Iceberg table's metadata_location is the
 * commit just made. A failure is the run's to report: the refine itself stands, and the next
 * refine of every table (`weir refine`, the refine job) catches up.
 */
export async function syncAfterRefine(
  p: Resources,
  changed: readonly string[] | 'all',
): Promise<string | undefined> {
  const settings = p.config.catalog.glue
  if (!settings || changed.length === 0) return undefined
  const only =
    changed === 'all'
      ? undefined
      : (await listTables(p.store, 'trusted'))
          .map((t) => t.name)
          .filter((n) => changed.some((c) => n === c || n.startsWith(`${c}__`)))
  if (only?.length === 0) return undefined
  try {
    await glueSync(p, { ...settings, ...(only ? { only } : {}) })
    return undefined
  } catch (err) {
    return `glue: ${(err as Error).message}; the tables are refined, run \`weir catalog sync-glue\` once Glue is reachable`
  }
}

/**
 * After a models build, with `catalog.glue` set: the tables built registered again, so an Iceberg
 * table's metadata_location is the commit just made. A failure is the run's to report, as a refine's.
 */
export async function syncAfterModels(p: Resources, built: readonly string[]): Promise<string | undefined> {
  const settings = p.config.catalog.glue
  if (!settings || built.length === 0) return undefined
  try {
    await glueSync(p, { ...settings, only: built.map((name) => `refined.${name}`) })
    return undefined
  } catch (err) {
    return `glue: ${(err as Error).message}; the models are built, run \`weir catalog sync-glue\` once Glue is reachable`
  }
}
