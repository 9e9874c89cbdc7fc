import { join, resolve } from 'node:path'
import type { WeirConfig } from '../config/schema.js'
import { parseBytes, parseDuration } from '../core/units.js'
import type { StateStore } from '../state/state.js'
import { parseLakeUri } from '../storage/uri.js'
import type { Stream } from './stream.js'

/**
 * Opens the configured stream. Each kind's adapter is imported only when used, so the SDKs of
 * remote streams (NATS, Kinesis) cost nothing to projects that do not use them.
 *
 * @example const stream = await openStream(config, process.cwd())
 */
export async function openStream(
  config: Pick<WeirConfig, 'stream' | 'lake'>,
  base: string,
  state?: StateStore,
): Promise<Stream> {
  switch (config.stream.kind) {
    case 'embedded': {
      const { createEmbeddedStream } = await import('./embedded/embedded-stream.js')
      const { retention } = config.stream
      return createEmbeddedStream(resolve(base, config.stream.dir ?? defaultStreamDir(config.lake, base)), {
        partitions: config.stream.partitions,
        segmentBytes: parseBytes(config.stream.segmentBytes),
        ...(retention
          ? {
              retention: {
                ...(retention.maxBytes !== undefined ? { maxBytes: parseBytes(retention.maxBytes) } : {}),
                ...(retention.maxAge !== undefined ? { maxAgeMs: parseDuration(retention.maxAge) } : {}),
              },
            }
          : {}),
      })
    }
    case 'nats': {
      const { createNatsStream } = await import('./nats/nats-stream.js')
      const { url, prefix, ackWait, maxAge, maxBytes, partitions } = config.stream
      return createNatsStream({
        url,
        prefix,
        ackWait,
        partitions,
        ...(maxAge !== undefined ? { maxAge } : {}),
        ...(maxBytes !== undefined ? { maxBytes } : {}),
      })
    }
    case 'kinesis': {
      if (!state) throw new Error('openStream: the Kinesis stream needs a state store for its checkpoints')
      const { createKinesisStream } = await import('./kinesis/kinesis-stream.js')
      const { prefix, shards, region, endpoint } = config.stream
      return createKinesisStream({
        checkpoints: state,
        prefix,
        shards,
        ...(region ? { region } : {}),
        ...(endpoint ? { endpoint } : {}),
      })
    }
  }
}

/**
 * The embedded stream sits inside a local lake (`<lake>/_stream`). For a remote lake it lives in
 * `.weir/stream/<bucket>_<prefix>` beside the config: one folder per lake, so two lakes never share offsets.
 */
export function defaultStreamDir(lake: string, base: string): string {
  const loc = parseLakeUri(lake, base)
  if (loc.kind === 'local') return join(loc.root, '_stream')
  return join(base, '.weir', 'stream', `${loc.bucket}_${loc.prefix}`.replace(/[^A-Za-z0-9._-]+/g, '_'))
}
