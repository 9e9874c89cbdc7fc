import { z } from 'zod'
import { adapterFor, kindSchemas } from '../core/adapter.js'
import { embeddedStream } from './embedded/embedded-definition.js'
import { kinesisStream } from './kinesis/kinesis-definition.js'
import { natsStream } from './nats/nats-definition.js'
import type { Stream, StreamContext } from './stream.js'

/** The built-in stream kinds. A new kind adds its definition (beside its adapter) here. */
export const STREAM_KINDS = [embeddedStream, natsStream, kinesisStream] as const

export const streamSchema = z
  .discriminatedUnion('kind', kindSchemas(STREAM_KINDS))
  .prefault({ kind: 'embedded' })
  .describe('The durable stream between sources and consumers.')

export type StreamConfig = z.output<typeof streamSchema>

/**
 * Opens the configured stream. Each kind's adapter is imported only when used, so the SDKs of
 * remote streams (NATS, Kinesis) cost nothing to projects that do not use them.
 *
 * @example const stream = await openStream(config.stream, { lake: config.lake, base: process.cwd() })
 */
export function openStream(config: StreamConfig, context: StreamContext): Promise<Stream> {
  const definition = adapterFor(STREAM_KINDS, config.kind, 'stream')
  return definition.create(config as never, context)
}
