import type { StateStore } from '../state/state.js'
import type { Lines } from './output.js'

/** Limits and layout of one table's raw files. */
export interface LandingTable {
  readonly maxRecords: number
  readonly maxBytes: number
  readonly maxAgeMs: number
  /** Folder template, e.g. `raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}`. */
  readonly path: string
  /** Dotted path of the event time; without one, records land by the time they were published. */
  readonly eventTime: string | undefined
}

export interface LandingOptions {
  readonly topics: readonly string[]
  /** The settings of `source.resource` (global defaults merged with the table's own). */
  readonly table: (source: string, resource: string) => LandingTable
  /** Where lake state lives: landing keeps its intents there (`_state/landing/<group>/intents.json`). */
  readonly state: StateStore
  /** Partition folders by the record's event time (default) or by when it was ingested. */
  readonly timeBy?: 'event' | 'ingestion'
  /** IANA zone of the folders' dates and hours (default UTC). */
  readonly timeZone?: string
  readonly compression?: 'none' | 'gzip'
  /** `ndjson` (default) or `json`, as some layouts want (`Raw/Twitter/JSON/2022/05/02/<file>.json`). */
  readonly extension?: 'ndjson' | 'json'
  /** Beyond this many open files, the oldest are written early (default 500). */
  readonly maxOpenFiles?: number
  /** Beyond this many buffered bytes, the oldest files are written early (default 128 MB). */
  readonly maxBufferedBytes?: number
  /** A bigger record is set aside in `_errors/landing` (default 1 MB). */
  readonly maxRecordBytes?: number
  /** Consumer group name; one per landing deployment. */
  readonly group?: string
  /**
   * Only these partitions of each topic (of `all`), for processes that share the landing: each
   * partition must be landed by one process at a time (the caller holds a lease on it).
   */
  readonly partitions?: (topic: string, all: readonly string[]) => Promise<readonly string[]>
  /** Keep running, writing files as they age, until `signal` aborts; otherwise return once caught up. */
  readonly follow?: boolean
  /** Stops polling; what was taken is still written and committed before `land` returns. */
  readonly signal?: AbortSignal
  /** Called once each file is visible (for latency figures and progress). */
  readonly onFile?: (file: LandedFile) => void
  /**
   * Called after each round of files is written, registered and committed, with the raw tables
   * (`x_tweets`) it wrote to: the moment a micro-batch refine can start.
   */
  readonly onRound?: (tables: readonly string[]) => void
}

export interface LandedFile {
  readonly key: string
  readonly records: number
  readonly bytes: number
  /** Stream timestamps (publish times) of its first and last records, ms. */
  readonly published: { readonly min: number; readonly max: number }
  readonly late: number
}

export interface LandingResult {
  readonly records: number
  readonly files: number
  readonly bytes: number
  /** Records set aside in `_errors/landing/` (not JSON, no resource, no event time, too big). */
  readonly errors: number
  /** Records whose event time fell in an older folder than the newest one seen for their table. */
  readonly late: number
}

/**
 * A file about to be written: recorded (durably, with the others of its round) before the write,
 * so that a replay after a crash rebuilds exactly the same file instead of cutting the records
 * differently (time-based flushes are not a function of the records alone).
 */
export interface Intent {
  readonly topic: string
  readonly partition: string
  /** Resource, fingerprint and folder: which records of the partition belong in the file. */
  readonly key: string
  readonly first: string
  readonly last: string
}

export interface Buffer_ {
  readonly topic: string
  readonly partition: string
  readonly key: string
  readonly resource: string
  readonly fp: string
  readonly dir: string
  readonly table: LandingTable
  readonly lines: Lines
  bytes: number
  readonly first: string
  last: string
  /** Offset of the record polled just before `first` in this partition; commits stay below it. */
  readonly prev: string | undefined
  readonly openedAt: number
  minTs: number
  maxTs: number
  minEt: number
  maxEt: number
  late: number
  /** Set when this buffer replays a file recorded before a crash. */
  readonly intent: Intent | undefined
}
