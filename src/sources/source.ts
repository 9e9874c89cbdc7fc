import type { SourceRecord } from '../core/records.js'

/** What a source yields: records, and the cursor to save once they are durable in the stream. */
export interface SourceBatch {
  readonly records: readonly SourceRecord[]
  readonly cursor?: unknown
}

export interface PullContext {
  /** The cursor saved after the last durable batch of a previous run, if any. */
  readonly cursor: unknown
  readonly signal: AbortSignal
}

/**
 * The source port: pulls records from somewhere (an API, files, your code) as batches. A source
 * never writes anywhere itself; the ingest runner publishes each batch and only then saves its cursor.
 */
export interface Source {
  readonly name: string
  pull(ctx: PullContext): AsyncIterable<SourceBatch>
}

/**
 * How a source kind plugs in: its `kind` (the config's discriminator) and how to build it from its
 * validated config. Each kind's zod schema sits beside its adapter; `registry.ts` lists the kinds.
 */
export interface SourceDefinition<C extends { readonly kind: string }> {
  readonly kind: C['kind']
  create(name: string, config: C): Source
}
