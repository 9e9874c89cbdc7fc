import { promisify } from 'node:util'
import { gzip as gzipCb } from 'node:zlib'
import { joinKey, type ObjectStore, putJson } from '../storage/storage.js'
import type { Buffer_, LandedFile } from './landing-types.js'
import { fileName } from './output.js'

const gzip = promisify(gzipCb)

/** How raw files are encoded: their extension (`.ndjson`, `.json`, with `.gz`) and compression. */
export interface RawFormat {
  readonly ext: string
  readonly gzip: boolean
}

export function rawFormat(opts: {
  readonly extension?: 'ndjson' | 'json' | undefined
  readonly compression?: 'none' | 'gzip' | undefined
}): RawFormat {
  const gzip = opts.compression === 'gzip'
  return { ext: `.${opts.extension ?? 'ndjson'}${gzip ? '.gz' : ''}`, gzip }
}

/**
 * Writes a closed buffer as one raw file, named after the partition and offsets it holds, and its
 * manifest beside it.
 */
export async function writeRawFile(store: ObjectStore, b: Buffer_, format: RawFormat): Promise<LandedFile> {
  const name = fileName(b.partition, b.first, b.last)
  const file = joinKey(b.dir, `${name}${format.ext}`)
  const raw = b.lines.take()
  const body = format.gzip ? await gzip(raw) : raw
  // A replayed file that was written before the crash is left as it is: rewriting the same bytes
  // would still change its version tag (mtime on a local lake) and make refine read it again.
  const old = b.intent ? await store.getBytes(file) : undefined
  if (!old || !Buffer.from(old).equals(body)) await store.put(file, body)
  // Lineage goes beside the data, not into the records; the leading _ hides it from Athena/Hive/DuckDB globs.
  await putJson(store, joinKey(b.dir, `_${name}.manifest.json`), {
    file,
    source: b.topic,
    resource: b.resource,
    fingerprint: b.fp || null,
    positions: { partition: b.partition, first: b.first, last: b.last },
    records: b.lines.count,
    bytes: body.length,
    eventTime: b.minEt <= b.maxEt ? { min: iso(b.minEt), max: iso(b.maxEt) } : null,
    ingested: { from: iso(b.minTs), to: iso(b.maxTs) },
    late: b.late,
    landedAt: new Date().toISOString(),
  })
  return {
    key: file,
    records: b.lines.count,
    bytes: body.length,
    published: { min: b.minTs, max: b.maxTs },
    late: b.late,
  }
}

const iso = (ms: number) => new Date(ms).toISOString()
