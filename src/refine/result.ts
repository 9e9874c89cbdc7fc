import type { Leases } from '../state/lease.js'
import type { SchemaPolicy } from './schema.js'

export interface RefineOptions {
  /** Per `source.resource`: the event-time path (partitions by its date) and primary key (deduped per run). */
  readonly tables: Readonly<
    Record<
      string,
      {
        readonly eventTime?: string
        readonly primaryKey?: string | readonly string[]
        readonly schema?: SchemaPolicy
        /** Structs become `parent_child` columns (default true). */
        readonly flatten?: boolean
        /** `iceberg`: the trusted tables also keep Iceberg metadata that follows every change. */
        readonly format?: 'parquet' | 'iceberg'
        /** Iceberg tables: how long replaced snapshots stay readable ("1h"). */
        readonly retention?: string | number
      }
    >
  >
  /** Called after each committed batch of a table, with the table's totals so far. */
  readonly onBatch?: (table: string, done: { readonly batches: number; readonly records: number }) => void
  /** A local directory for DuckDB's output before it is uploaded; emptied after each table. */
  readonly stagingDir: string
  /** Only these raw tables (by name); all when absent. */
  readonly only?: readonly string[]
  readonly now?: Date
  /** Raw files per batch at most (default 1,000): bounds temp disk and memory; a run loops over batches. */
  readonly batchFiles?: number
  /** Raw bytes per batch at most (default 256 MB; a bigger file is a batch of its own). */
  readonly batchBytes?: number
  /**
   * Leases in the lake: a table is refined by one process at a time; a table another process holds
   * is skipped (and said so). Without it, the caller guarantees a single refiner.
   */
  readonly leases?: Leases
  /** Wait for a table another live process holds, up to its lease's life, instead of skipping it (one-shot runs). */
  readonly waitForLease?: boolean
}

export interface RefineResult {
  readonly table: string
  readonly inputFiles: number
  readonly records: number
  readonly files: number
  readonly bytes: number
  /** Rows set aside in `_errors/refine/` (no readable event time). */
  readonly errors: number
  /** Trusted files replaced by rewrites of the partitions the batch touched (dedupe by primary key). */
  readonly replaced: number
  /** Raw files refined again because their content changed since they were refined. */
  readonly changed: number
  /** Schema conflicts: types widened to text, rows set aside by the table's policy. */
  readonly warnings: readonly string[]
  /** Why the table was not refined at all (another process holds it): nothing of it was done. */
  readonly skipped?: string
}

export function emptyResult(table: string): RefineResult {
  return {
    table,
    inputFiles: 0,
    records: 0,
    files: 0,
    bytes: 0,
    errors: 0,
    replaced: 0,
    changed: 0,
    warnings: [],
  }
}

export function add(a: RefineResult, b: RefineResult): RefineResult {
  return {
    table: a.table,
    inputFiles: a.inputFiles + b.inputFiles,
    records: a.records + b.records,
    files: a.files + b.files,
    bytes: a.bytes + b.bytes,
    errors: a.errors + b.errors,
    replaced: a.replaced + b.replaced,
    changed: a.changed + b.changed,
    warnings: [...a.warnings, ...b.warnings],
  }
}
