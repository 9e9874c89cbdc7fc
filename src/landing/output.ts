import { getTable, putTable } from '../catalog/catalog.js'
import { WeirError } from '../core/errors.js'
import { errorsKey, tableLocation } from '../core/paths.js'
import { tableName } from '../core/records.js'
import type { ObjectStore } from '../storage/storage.js'
import type { Delivery } from '../stream/stream.js'

/**
 * A file's lines, copied into chunks that grow from 16 KB to 1 MB: the records are copied out of
 * the stream's read buffers (so those are freed), without a Buffer object per line, and the file's
 * memory is about its size.
 */
export class Lines {
  private readonly chunks: Buffer[] = []
  private used = 0
  count = 0

  push(value: Uint8Array): void {
    const need = value.length + 1
    let last = this.chunks.at(-1)
    if (!last || last.length - this.used < need) {
      if (last) this.chunks[this.chunks.length - 1] = last.subarray(0, this.used)
      last = Buffer.allocUnsafeSlow(Math.max(need, Math.min(1 << 20, 16_384 << this.chunks.length)))
      this.chunks.push(last)
      this.used = 0
    }
    last.set(value, this.used)
    last[this.used + value.length] = 10
    this.used += need
    this.count++
  }

  /** The whole content, once; the chunks are let go. */
  take(): Buffer {
    const last = this.chunks.at(-1)
    if (last) this.chunks[this.chunks.length - 1] = last.subarray(0, this.used)
    const out = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)
    this.chunks.length = 0
    return out
  }
}

/** Runs `fn` over `items` with at most `limit` calls in flight. */
export async function inParallel<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

/**
 * `p0-000000100-000000199`: the partition, then the first and last offsets (padded so names sort
 * by offset). Kinesis shard ids are already names (`shardId-000000000001`).
 */
export function fileName(partition: string, first: string, last: string): string {
  const p = /^\d+$/.test(partition) ? `p${partition}` : partition.replace(/[^A-Za-z0-9_-]/g, '_')
  return `${p}-${first.padStart(9, '0')}-${last.padStart(9, '0')}`
}

export async function registerRaw(store: ObjectStore, template: string, source: string, resource: string) {
  const name = tableName(source, resource)
  const existing = await getTable(store, 'raw', name)
  if (existing) return
  await putTable(store, {
    zone: 'raw',
    name,
    source,
    resource,
    location: tableLocation(template, { source, resource, format: 'json' }),
    format: 'ndjson',
    partitioning: [...template.matchAll(/\{(yyyy|mm|dd|hh)\}/g)].map((m) => m[1]!),
    columns: [],
    updatedAt: new Date().toISOString(),
  })
}

/**
 * Sets records aside in `_errors/landing/<source>/<resource>/<date>/`, one file per partition and
 * round, each line with the reason, the position and the original bytes.
 */
export async function writeErrors(
  store: ObjectStore,
  errors: readonly { delivery: Delivery; reason: string }[],
) {
  if (errors.length === 0) return
  const now = new Date()
  const groups = new Map<string, (typeof errors)[number][]>()
  for (const e of errors) {
    const k = `${e.delivery.topic}\u0000${e.delivery.headers.resource ?? ''}\u0000${e.delivery.partition}`
    const list = groups.get(k)
    if (list) list.push(e)
    else groups.set(k, [e])
  }
  for (const list of groups.values()) {
    const { topic, partition, headers } = list[0]!.delivery
    const resource = headers.resource ?? '_unknown'
    const lines = list.map((e) => {
      const bytes = Buffer.from(e.delivery.value)
      const text = bytes.toString('utf8')
      // Bytes that are not UTF-8 are kept exactly, in base64, rather than mangled into text.
      const exact = Buffer.from(text, 'utf8').equals(bytes)
      return JSON.stringify({
        reason: e.reason,
        topic,
        partition,
        offset: e.delivery.offset,
        resource: headers.resource ?? null,
        ...(exact ? { value: text } : { valueBase64: bytes.toString('base64') }),
      })
    })
    const first = list[0]!.delivery.offset
    const last = list.at(-1)!.delivery.offset
    const key = errorsKey('landing', topic, resource, now, `${fileName(partition, first, last)}.ndjson`)
    await store.put(key, `${lines.join('\n')}\n`).catch((err: unknown) => {
      throw new WeirError(`landing: cannot set aside ${list.length} bad records: ${(err as Error).message}`, {
        code: 'LANDING_ERRORS_IO',
        stage: 'landing',
        cause: err,
      })
    })
  }
}
