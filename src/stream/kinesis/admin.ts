import { setTimeout as sleep } from 'node:timers/promises'
import type { KinesisClient, Shard } from '@aws-sdk/client-kinesis'
import { WeirError } from '../../core/errors.js'
import { compareOffsets } from '../stream.js'

/** Where the streams are and how to reach them. */
export interface KinesisOptions {
  /** Kinesis stream names are `<prefix>-<topic>`. */
  readonly prefix?: string
  /** Shards of a stream Weir creates (default 1); an existing stream keeps its own. */
  readonly shards?: number
  readonly region?: string
  /** For emulators (kinesalite, LocalStack); AWS_ENDPOINT_URL_KINESIS works too. */
  readonly endpoint?: string
}

export type KinesisAdmin = Awaited<ReturnType<typeof createKinesisAdmin>>

/**
 * The Kinesis client and what every part of the adapter asks of it: stream names, errors in
 * Weir's terms, shards, a topic's stream made active, and the topics there are.
 */
export async function createKinesisAdmin(o: KinesisOptions) {
  const [sdk, { NodeHttpHandler }] = await Promise.all([
    import('@aws-sdk/client-kinesis'),
    import('@smithy/node-http-handler'),
  ])
  const client: KinesisClient = new sdk.KinesisClient({
    // The Kinesis client defaults to HTTP/2, which emulators (kinesalite, LocalStack) do not speak;
    // HTTP/1.1 works with AWS too, so the path tested here is the one used in production.
    requestHandler: new NodeHttpHandler({
      connectionTimeout: 5_000,
      requestTimeout: 30_000,
      // Otherwise a request past its timeout only logs a warning and waits on.
      throwOnRequestTimeout: true,
    }),
    ...(o.region ? { region: o.region } : {}),
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
  })
  const prefix = (o.prefix ?? 'weir').replace(/[^A-Za-z0-9_.-]/g, '_')
  const streamName = (topic: string) => `${prefix}-${topic}`.replace(/[^A-Za-z0-9_.-]/g, '_')
  const fail = (what: string, err: unknown) =>
    new WeirError(`stream (Kinesis): ${what}: ${(err as Error).name}: ${(err as Error).message}`, {
      code: 'STREAM_KINESIS',
      stage: 'stream',
      retryable: true,
      cause: err,
    })
  const send = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run()
    } catch (err) {
      throw err instanceof WeirError ? err : fail(what, err)
    }
  }

  const listShards = (name: string) =>
    send(`listing the shards of ${name}`, async () => {
      const shards: Shard[] = []
      let token: string | undefined
      do {
        const r = await client.send(
          new sdk.ListShardsCommand(token ? { NextToken: token } : { StreamName: name }),
        )
        shards.push(...(r.Shards ?? []))
        token = r.NextToken
      } while (token)
      return shards
    })

  const ready = new Map<string, Promise<{ open: Shard[]; next: number }>>()
  /** Creates the topic's stream if needed and waits until it is active; returns its open shards. */
  const ensure = (topic: string) => {
    let p = ready.get(topic)
    if (!p) {
      p = (async () => {
        const name = streamName(topic)
        const status = async () =>
          client
            .send(new sdk.DescribeStreamSummaryCommand({ StreamName: name }))
            .then((r) => r.StreamDescriptionSummary?.StreamStatus)
            .catch((err: Error) => {
              if (err.name === 'ResourceNotFoundException') return undefined
              throw fail(`describing ${name}`, err)
            })
        let s = await status()
        if (s === undefined) {
          await client
            .send(new sdk.CreateStreamCommand({ StreamName: name, ShardCount: o.shards ?? 1 }))
            .catch((err: Error) => {
              if (err.name !== 'ResourceInUseException') throw fail(`creating ${name}`, err)
            })
          s = await status()
        }
        for (let i = 0; s !== 'ACTIVE' && s !== 'UPDATING'; i++) {
          if (i > 600) throw fail(`waiting for ${name} to become active`, new Error(`still ${s}`))
          await sleep(Math.min(1_000, 50 * 2 ** i))
          s = await status()
        }
        const open = (await listShards(name))
          .filter((sh) => !sh.SequenceNumberRange?.EndingSequenceNumber)
          .sort((a, b) => compareOffsets(a.HashKeyRange!.StartingHashKey!, b.HashKeyRange!.StartingHashKey!))
        return { open, next: 0 }
      })()
      p.catch(() => ready.delete(topic))
      ready.set(topic, p)
    }
    return p
  }

  const topics = async () => {
    const names: string[] = []
    let start: string | undefined
    for (;;) {
      const r = await send('listing streams', () =>
        client.send(new sdk.ListStreamsCommand(start ? { ExclusiveStartStreamName: start } : {})),
      )
      for (const n of r.StreamNames ?? [])
        if (n.startsWith(`${prefix}-`)) names.push(n.slice(prefix.length + 1))
      if (!r.HasMoreStreams || !r.StreamNames?.length) return names
      start = r.StreamNames.at(-1)
    }
  }
  return { sdk, client, prefix, streamName, fail, send, listShards, ensure, topics }
}
