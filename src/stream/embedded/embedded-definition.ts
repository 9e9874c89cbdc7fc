import { join, resolve } from 'node:path'
import { z } from 'zod'
import { defineAdapter } from '../../core/adapter.js'
import { parseBytes, parseDuration } from '../../core/units.js'
import { durationSchema, sizeSchema } from '../../core/units-schema.js'
import { parseLakeUri } from '../../storage/uri.js'
import { partitionsSchema } from '../partitions-schema.js'
import type { Stream, StreamContext } from '../stream.js'

const schema = z.strictObject({
  kind: z.literal('embedded').describe('A durable log on local disk; needs no server.'),
  dir: z
    .string()
    .optional()
    .describe('Directory of the log; defaults to <lake>/_stream for a local lake, .weir/stream otherwise.'),
  partitions: partitionsSchema,
  segmentBytes: sizeSchema.default('128MB').describe('Size of each segment file before a new one starts.'),
  retention: z
    .strictObject({
      maxBytes: sizeSchema
        .optional()
        .describe('Keep at most this much per topic (whole segments are dropped).'),
      maxAge: durationSchema.optional().describe('Drop segments whose records are all older than this.'),
    })
    .optional()
    .describe('What the log keeps; consumers behind a dropped segment go on from the oldest kept record.'),
})

/** The stream on local disk: segment files per partition, no server. */
export const embeddedStream = defineAdapter({
  kind: 'embedded',
  schema,
  async create(cfg: z.output<typeof schema>, ctx: StreamContext): Promise<Stream> {
    const { createEmbeddedStream } = await import('./embedded-stream.js')
    const { retention } = cfg
    return createEmbeddedStream(resolve(ctx.base, cfg.dir ?? defaultStreamDir(ctx.lake, ctx.base)), {
      partitions: cfg.partitions,
      segmentBytes: parseBytes(cfg.segmentBytes),
      ...(retention
        ? {
            retention: {
              ...(retention.maxBytes !== undefined ? { maxBytes: parseBytes(retention.maxBytes) } : {}),
              ...(retention.maxAge !== undefined ? { maxAgeMs: parseDuration(retention.maxAge) } : {}),
            },
          }
        : {}),
    })
  },
})

/**
 * The embedded stream sits inside a local lake (`<lake>/_stream`). For a remote lake it lives in
 * `.weir/stream/<bucket>_<prefix>` beside the config: one folder per lake, so two lakes never share offsets.
 */
export function defaultStreamDir(lake: string, base: string): string {
  const loc = parseLakeUri(lake, base)
  if (loc.kind === 'local') return join(loc.root, '_stream')
  return join(base, '.weir', 'stream', `${loc.bucket}_${loc.prefix}`.replace(/[^A-Za-z0-9._-]+/g, '_'))
}
