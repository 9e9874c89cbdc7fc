import { basename } from 'node:path'
import { putTable } from '../catalog/catalog.js'
import { WeirError } from '../core/errors.js'
import { errorsKey, partitionPath, tableLocation } from '../core/paths.js'
import { tableName } from '../core/records.js'
import { joinKey, type ObjectStore } from '../storage/storage.js'
import { batchTag } from './batch-intents.js'
import type { RawFile } from './source.js'

/** A record's data as JSON text, or a clear error for what JSON cannot hold. */
export function serialise(source: string, resource: string, data: unknown): string {
  let text: string | undefined
  try {
    text = JSON.stringify(data)
  } catch (err) {
    if (!(err instanceof TypeError)) throw err
  }
  if (text === undefined) {
    throw new WeirError(
      `source ${source}: a ${resource} record is not JSON-serialisable (undefined, a function, a BigInt or a cycle); yield plain JSON data`,
      { code: 'SOURCE_RECORD_INVALID', stage: 'source' },
    )
  }
  return text
}

/** Lands a file exactly as it is under the raw path (by ingestion date) and registers its table. */
export async function landFile(
  store: ObjectStore,
  template: string,
  source: string,
  f: RawFile,
  time: Date,
): Promise<void> {
  const folder = partitionPath(template, { source, resource: f.resource, format: f.format, time })
  await store.putFile(joinKey(folder, basename(f.path)), f.path)
  await putTable(store, {
    zone: 'raw',
    name: tableName(source, f.resource),
    source,
    resource: f.resource,
    location: tableLocation(template, { source, resource: f.resource, format: f.format }),
    format: f.format,
    partitioning: [...template.matchAll(/\{(yyyy|mm|dd|hh)\}/g)].map((m) => m[1]!),
    ...(f.csv ? { csv: f.csv } : {}),
    columns: [],
    updatedAt: new Date().toISOString(),
  })
}

/** Unreadable input, each line with its reason, in a file named after its batch (written again, not twice, on a replay). */
export async function setAside(
  store: ObjectStore,
  source: string,
  run: string,
  stateName: string,
  seq: number,
  time: Date,
  errors: readonly { reason: string; raw: string; resource?: string }[],
): Promise<void> {
  const name = `${time.getTime()}-${batchTag(stateName)}-${String(seq).padStart(9, '0')}.ndjson`
  const byResource = new Map<string | undefined, string[]>()
  for (const e of errors) {
    const lines = byResource.get(e.resource) ?? []
    lines.push(
      JSON.stringify({
        reason: e.reason,
        source,
        ...(e.resource ? { resource: e.resource } : {}),
        run,
        raw: e.raw,
      }),
    )
    byResource.set(e.resource, lines)
  }
  for (const [resource, lines] of byResource)
    await store.put(errorsKey('source', source, resource, time, name), `${lines.join('\n')}\n`)
}
