import { configSchema } from '../../src/config/schema.js'
import { ingest } from '../../src/sources/ingest.js'
import { createSource } from '../../src/sources/registry.js'
import { createStateStore } from '../../src/state/state.js'
import type { ObjectStore } from '../../src/storage/storage.js'
import type { Stream } from '../../src/stream/stream.js'

/** Runs one configured source through the real ingest runner; returns its result. */
export async function runSource(
  sources: Record<string, unknown>,
  name: string,
  lake: { store: ObjectStore; stream: Stream },
  baseDir?: string,
  eventTimes: Record<string, string> = {},
) {
  const config = configSchema.parse({ sources })
  const source = createSource(name, config.sources[name]!, config.sources, baseDir)
  return ingest(source, lake.stream, lake.store, {
    state: createStateStore(lake.store),
    eventTime: (resource) => eventTimes[resource],
  })
}

/** Everything published to a topic so far: resource, parsed record and headers. */
export async function published(stream: Stream, topic: string, group = `check-${Math.random()}`) {
  const c = await stream.consumer(group, [topic])
  const out: { resource: string; data: Record<string, unknown>; headers: Record<string, string> }[] = []
  for (;;) {
    const batch = await c.poll({ maxRecords: 10_000 })
    if (batch.length === 0) break
    for (const d of batch) {
      out.push({
        resource: d.headers.resource!,
        data: JSON.parse(Buffer.from(d.value).toString()),
        headers: { ...d.headers },
      })
    }
  }
  await c.commit(c.position())
  return out
}

export const ids = (
  records: { resource: string; data: Record<string, unknown> }[],
  resource: string,
  field = 'id',
) =>
  records
    .filter((r) => r.resource === resource)
    .map((r) => String(r.data[field]))
    .sort()

export const fastRetry = { attempts: 4, baseDelay: '1ms', maxDelay: '5ms', maxWait: '5s' }
