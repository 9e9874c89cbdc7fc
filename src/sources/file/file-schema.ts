import { z } from 'zod'

export const fileSourceSchema = z.strictObject({
  kind: z
    .literal('file')
    .describe(
      'Local files: CSV, NDJSON or JSON arrays; Parquet files land as they are (their schema is in the footer).',
    ),
  path: z
    .string()
    .min(1)
    .describe(
      'A file or a glob (`*` within a folder, `**` across folders), relative to the config. Files are read oldest first (by modification time, then name); a file is read again when its size or time changes.',
    ),
  format: z
    .enum(['csv', 'ndjson', 'json', 'parquet'])
    .optional()
    .describe('Default: from the extension (.csv, .ndjson/.jsonl, .json, .parquet).'),
  resource: z
    .string()
    .optional()
    .describe("Resource name for every file; default: each file's base name (movies.csv → movies)."),
  csv: z
    .strictObject({
      delimiter: z.string().min(1).default(','),
      quote: z.string().length(1).default('"'),
      header: z.boolean().default(true).describe('The first line names the columns.'),
      columns: z.array(z.string()).optional().describe('Column names when the file has no header.'),
      encoding: z.enum(['utf-8', 'latin1']).default('utf-8'),
      null: z
        .union([z.string(), z.array(z.string())])
        .default([])
        .describe('Values that mean null, e.g. "\\\\N".'),
      quotedNulls: z
        .boolean()
        .default(true)
        .describe(
          'A quoted null token is null too, as in DuckDB; false keeps a quoted one as text, as in PostgreSQL (slower).',
        ),
    })
    .prefault({}),
  raw: z
    .enum(['rows', 'as-is', 'both'])
    .default('rows')
    .describe('rows: emit each row as a record; as-is: land the file byte for byte in the raw zone; both.'),
  batchSize: z.number().int().positive().default(1000).describe('Records per batch published to the stream.'),
})

export type FileSourceConfig = z.output<typeof fileSourceSchema>
