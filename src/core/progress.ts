/**
 * How far a long stage is, as it goes: the CLI draws it on a terminal (and nowhere else). `done`
 * and `total` are in `unit`; `total` only where it is known, which gives a percentage and an ETA.
 */
export interface ProgressEvent {
  readonly stage: 'ingest' | 'land' | 'refine' | 'backfill' | 'load'
  /** What moves: a source, a table, a file. One line per label. */
  readonly label: string
  readonly done: number
  readonly total?: number
  readonly unit: 'bytes' | 'records' | 'files' | 'batches' | 'windows' | 'tables'
  /** Records so far, when the unit is something else (bytes of a file). */
  readonly records?: number
}

export type OnProgress = (e: ProgressEvent) => void
