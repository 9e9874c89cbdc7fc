/** How a CSV file is read back: by DuckDB for views, by the file source for rows. */
export interface CsvOptions {
  readonly delimiter: string
  readonly quote: string
  readonly header: boolean
  readonly encoding: 'utf-8' | 'latin1'
  readonly null: string | readonly string[]
  /** Whether a quoted null token is null too (DuckDB's default) or text (PostgreSQL's). */
  readonly quotedNulls?: boolean
}
