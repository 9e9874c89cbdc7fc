import type { z } from 'zod'
import type { CsvOptions } from '../core/csv.js'
import type { SourceRecord } from '../core/records.js'

/** What a source yields: records, and the cursor to save once they are durable in the stream. */
export interface SourceBatch {
  readonly records: readonly SourceRecord[]
  readonly cursor?: unknown
  /** Files to land byte for byte in the raw zone (a CSV kept as it was). */
  readonly files?: readonly RawFile[]
  /** Input that could not be read, set aside in `_errors/source/` with the reason. */
  /** Input that could not be read, with why (and its resource, where the source knows it). */
  readonly errors?: readonly { readonly reason: string; readonly raw: string; readonly resource?: string }[]
  /** How far through its input the source is, in bytes, where it knows (files). */
  readonly progress?: { readonly done: number; readonly total: number }
}

/** A local file a source hands over to be landed as it is. */
export interface RawFile {
  readonly resource: string
  readonly path: string
  readonly format: 'csv' | 'ndjson' | 'json' | 'parquet'
  /** How to read it back (views and refine), for CSV. */
  readonly csv?: CsvOptions
}

export interface PullContext {
  /** The cursor saved after the last durable batch of a previous run, if any. */
  readonly cursor: unknown
  readonly signal: AbortSignal
  /** This source's own documents in the lake's state (e.g. a request budget), beside its cursor. */
  readonly state: SourceState
  /**
   * Pulled only to drive another source's dependent requests: emit every record (whatever the
   * source's own raw mode), land no files.
   */
  readonly asParent?: boolean
  /**
   * Runs SQL over the lake's catalog tables (`trusted.x_tweets`), for requests driven by what the lake
   * holds. Given by the pipeline; absent where a source runs without a lake.
   */
  readonly query?: (sql: string) => Promise<readonly Record<string, unknown>[]>
  /**
   * Read until stopped (`weir run`): a long-lived source (a stream) keeps its connection open; a
   * one-shot command leaves it unset, and such a source reads for its own window, then ends.
   */
  readonly follow?: boolean
}

/** Named JSON documents kept for one source under `_state/sources/<source>/`. */
export interface SourceState {
  get<T>(key: string): Promise<T | undefined>
  put(key: string, value: unknown): Promise<void>
}

/**
 * The source port: pulls records from somewhere (an API, files, your code) as batches. A source
 * never writes anywhere itself; the ingest runner publishes each batch and only then saves its cursor.
 */
export interface Source {
  readonly name: string
  pull(ctx: PullContext): AsyncIterable<SourceBatch>
  /**
   * The fields that identify a record of a resource, when the source knows them (the id a REST API
   * pages by): a record pulled again after a crash is recognised by them even if its values moved.
   */
  identity?(resource: string): readonly string[] | undefined
}

/**
 * How a source kind plugs in: its `kind` (the config's discriminator) and how to build it from its
 * validated config. Each kind's zod schema sits beside its adapter; `registry.ts` lists the kinds.
 */
export interface SourceDefinition<C extends { readonly kind: string }> {
  readonly kind: C['kind']
  /** The zod schema of this kind's config; the registry composes them into `sources:`. */
  readonly schema: z.ZodType
  /** A long-lived source (a stream): `weir run` keeps it open instead of pulling it on a schedule. */
  readonly continuous?: boolean
  create(name: string, config: C, env: SourceEnv): Source
}

/** What a source may need from the project when it is built. */
export interface SourceEnv {
  /** Builds another source of the project by name, for dependent resources. */
  others(name: string): Source
  /** The config file's folder: relative paths start here. */
  readonly baseDir: string
}
