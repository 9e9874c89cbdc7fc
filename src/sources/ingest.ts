import { WeirError } from '../core/errors.js'
import type { StateStore } from '../state/state.js'
import type { Stream } from '../stream/stream.js'
import type { Source, SourceState } from './source.js'

export interface IngestResult {
  readonly source: string
  readonly records: number
  readonly bytes: number
  readonly batches: number
  readonly byResource: Readonly<Record<string, number>>
}

/**
 * Runs a source once: publishes each batch to the stream topic named after the source, and saves
 * the batch's cursor only after the stream acknowledged it, so a crash re-pulls, never skips.
 * Each record's resource travels in the `resource` header; the JSON document is the value, untouched.
 */
export async function ingest(
  source: Source,
  stream: Stream,
  state: StateStore,
  signal: AbortSignal = new AbortController().signal,
): Promise<IngestResult> {
  const stateName = `sources/${source.name}`
  const saved = await state.get<{ cursor?: unknown }>(stateName)
  let records = 0
  let bytes = 0
  let batches = 0
  const byResource: Record<string, number> = {}
  const sourceState: SourceState = {
    get: (key) => state.get(`${stateName}/${key}`),
    put: (key, value) => state.put(`${stateName}/${key}`, value),
  }
  for await (const batch of source.pull({ cursor: saved?.cursor, signal, state: sourceState })) {
    const encoded = batch.records.map((r) => {
      if (!r.resource || typeof r.resource !== 'string') {
        throw new WeirError(
          `source ${source.name}: a record has no resource name; yield { resource, data }`,
          {
            code: 'SOURCE_RECORD_INVALID',
            stage: 'source',
          },
        )
      }
      let text: string | undefined
      try {
        text = JSON.stringify(r.data)
      } catch (err) {
        text = undefined
        if (!(err instanceof TypeError)) throw err
      }
      if (text === undefined) {
        throw new WeirError(
          `source ${source.name}: a ${r.resource} record is not JSON-serialisable (undefined, a function, a BigInt or a cycle); yield plain JSON data`,
          { code: 'SOURCE_RECORD_INVALID', stage: 'source' },
        )
      }
      const value = Buffer.from(text)
      bytes += value.length
      byResource[r.resource] = (byResource[r.resource] ?? 0) + 1
      return { value, headers: { resource: r.resource } }
    })
    await stream.publish(source.name, encoded)
    records += encoded.length
    batches++
    if (batch.cursor !== undefined) {
      await state.put(stateName, { cursor: batch.cursor, updatedAt: new Date().toISOString() })
    }
  }
  return { source: source.name, records, bytes, batches, byResource }
}
