import { z } from 'zod'
import { isTimeZone } from '../core/time.js'
import { durationSchema, sizeSchema } from '../core/units-schema.js'

/** How raw files are cut and named: the landing section of the config. */
export const landingSchema = z
  .strictObject({
    maxRecords: z
      .number()
      .int()
      .positive()
      .default(100_000)
      .describe('Records per raw file at most (the seeds\' "100 tweets per file" is 100).'),
    maxBytes: sizeSchema
      .default('64MB')
      .describe('Bytes per raw file at most (e.g. "10MB"); a number is bytes.'),
    maxAge: durationSchema
      .default('60s')
      .describe(
        'Longest a record waits in a buffer before its file is written (e.g. "60s"); a number is ms.',
      ),
    path: z
      .string()
      .default('raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}')
      // File names come from stream offsets, which are per source; two tables in one folder could collide.
      .refine(
        (t) =>
          /\{source\}.*\{resource\}|\{resource\}.*\{source\}/.test(t.split(/\{(?:yyyy|mm|dd|hh)\}/)[0] ?? ''),
        {
          message: 'the path must contain {source} and {resource} before any time field',
        },
      )
      .describe(
        'Template of raw file folders; fields: source, format, resource, yyyy, mm, dd, hh. Hive style works too: "raw/{source}/{resource}/year={yyyy}/month={mm}/day={dd}/hour={hh}".',
      ),
    timeBy: z
      .enum(['event', 'ingestion'])
      .default('event')
      .describe(
        "Partition folders by each record's event time (tables.<t>.eventTime; a record without one is set aside) or by when it was ingested.",
      ),
    timeZone: z
      .string()
      .default('UTC')
      .refine(isTimeZone, { message: 'an IANA time zone such as "UTC" or "Europe/Paris"' })
      .describe("Time zone of the folders' dates and hours."),
    compression: z.enum(['none', 'gzip']).default('none').describe('gzip raw files (.ndjson.gz).'),
    extension: z
      .enum(['ndjson', 'json'])
      .default('ndjson')
      .describe('File extension of raw files; the content is one JSON document a line either way.'),
    maxOpenFiles: z
      .number()
      .int()
      .positive()
      .default(500)
      .describe('Files buffered at once at most; beyond it the oldest are written early.'),
    maxBufferedBytes: sizeSchema
      .default('128MB')
      .describe('Bytes buffered at once at most; beyond it the oldest files are written early.'),
    maxRecordBytes: sizeSchema.default('1MB').describe('A bigger record is set aside in _errors/landing.'),
  })
  .prefault({})
  .describe('How the stream is batched into raw files.')
