import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import { afterAll, describe, expect, it } from 'vitest'
import { createStateStore } from '../../src/state/state.js'
import { createLocalStore } from '../../src/storage/local/local-store.js'
import { createKinesisStream } from '../../src/stream/kinesis/kinesis-stream.js'
import type { Delivery } from '../../src/stream/stream.js'
import { streamContract } from '../contract/stream.contract.js'
import { startKinesis, tempDir } from '../helpers/services.js'

const kinesis = await startKinesis()
afterAll(() => kinesis?.stop())
// kinesalite checks that credentials are present, not what they are.
process.env.AWS_ACCESS_KEY_ID ??= 'weir-test'
process.env.AWS_SECRET_ACCESS_KEY ??= 'weir-test'

async function open(shards = 3, aggregate = true) {
  const state = createStateStore(await createLocalStore(await tempDir('weir-kinesis-')))
  const prefix = `t${randomBytes(4).toString('hex')}`
  const connect = () =>
    createKinesisStream({
      checkpoints: state,
      prefix,
      shards,
      region: 'us-east-1',
      endpoint: kinesis!.endpoint,
      aggregate,
    })
  return { connect, state, prefix }
}

describe.skipIf(!kinesis)('Amazon Kinesis (kinesalite)', () => {
  for (const aggregate of [true, false])
    streamContract(
      `kinesis (3 shards${aggregate ? ', KPL aggregation' : ', a Kinesis record per record'})`,
      async () => {
        const { connect } = await open(3, aggregate)
        // kinesalite never answers GetShardIterator AT_TIMESTAMP on a shard with no record after the
        // time (AWS does), so starting at a time is checked below on a shard that has one.
        return {
          stream: await connect(),
          reopen: connect,
          topic: 'tweets',
          partitions: 3,
          countsLag: false,
          startsAtTime: false,
        }
      },
    )

  it('starts a new group at a time (AT_TIMESTAMP)', async () => {
    const { connect } = await open(1)
    const stream = await connect()
    await stream.publish('w', [{ value: Buffer.from('old') }])
    await new Promise((r) => setTimeout(r, 1_100))
    const time = Date.now()
    await stream.publish('w', [{ value: Buffer.from('new') }])
    const c = await stream.consumer('t', ['w'], { start: { time: time - 200 } })
    expect((await c.poll({ maxRecords: 10 })).map((d) => Buffer.from(d.value).toString())).toEqual(['new'])
    await stream.close()
  })

  it('keeps checkpoints per group and shard in the lake state, readable as JSON', async () => {
    const { connect, state } = await open(2)
    const stream = await connect()
    const at = await stream.publish(
      'w',
      Array.from({ length: 40 }, (_, i) => ({ key: `city-${i % 4}`, value: Buffer.from(String(i)) })),
    )
    const c = await stream.consumer('alerts', ['w'])
    const got: string[] = []
    for (let b = await c.poll({ maxRecords: 7 }); b.length; b = await c.poll({ maxRecords: 7 }))
      got.push(...b.map((d) => Buffer.from(d.value).toString()))
    expect(got.sort()).toEqual(Array.from({ length: 40 }, (_, i) => String(i)).sort())
    await c.commit(c.position())
    const saved = await state.get<Record<string, Record<string, string>>>('stream/kinesis/alerts')
    const last = new Map<string, string>()
    for (const p of at) last.set(p.partition, p.offset) // publish order is offset order per shard
    expect(saved).toEqual({ w: Object.fromEntries(last) })
    expect(Object.keys(saved!.w!).every((s) => s.startsWith('shardId-'))).toBe(true)
    await stream.close()
  })

  it('sends a batch over the 500-record PutRecords limit in several calls, every record once', async () => {
    const { connect } = await open(1, false)
    const stream = await connect()
    const at = await stream.publish(
      'big',
      Array.from({ length: 1_234 }, (_, i) => ({ value: Buffer.from(String(i)) })),
    )
    expect(new Set(at.map((p) => p.offset)).size).toBe(1_234)
    const c = await stream.consumer('g', ['big'])
    const got: string[] = []
    for (let b = await c.poll({ maxRecords: 5_000 }); b.length; b = await c.poll({ maxRecords: 5_000 }))
      got.push(...b.map((d) => Buffer.from(d.value).toString()))
    expect(got).toEqual(Array.from({ length: 1_234 }, (_, i) => String(i)))
    await stream.close()
  })

  it.each([
    [false, 300],
    [true, 2],
  ])(
    'sends again the records a PutRecords call refused (throttling); each lands once (aggregated: %s)',
    async (aggregate, least) => {
      // A proxy in front of kinesalite that, as Kinesis does under throttling, refuses some records of
      // the first PutRecords calls: it withholds them from the emulator and reports them failed.
      let refused = 0
      const proxy = createServer(async (req, res) => {
        const chunks: Buffer[] = []
        for await (const c of req) chunks.push(c as Buffer)
        let body = Buffer.concat(chunks).toString()
        const target = String(req.headers['x-amz-target'] ?? '')
        const put = target.endsWith('.PutRecords') && refused < least
        let dropped: number[] = []
        if (put) {
          const json = JSON.parse(body) as { Records: unknown[] }
          dropped = json.Records.map((_, i) => i).filter((i) => i % 3 === 1)
          refused += dropped.length
          body = JSON.stringify({ ...json, Records: json.Records.filter((_, i) => i % 3 !== 1) })
        }
        const headers = Object.fromEntries(
          Object.entries(req.headers).filter(([k]) => !['content-length', 'host', 'connection'].includes(k)),
        ) as Record<string, string>
        const up = await fetch(`${kinesis!.endpoint}${req.url}`, { method: req.method, headers, body })
        let text = await up.text()
        if (put && up.ok) {
          const out = JSON.parse(text) as { Records: object[]; FailedRecordCount: number }
          for (const i of dropped) {
            out.Records.splice(i, 0, {
              ErrorCode: 'ProvisionedThroughputExceededException',
              ErrorMessage: 'Rate exceeded for shard',
            })
          }
          out.FailedRecordCount = dropped.length
          text = JSON.stringify(out)
        }
        res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' })
        res.end(text)
      })
      await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
      const port = (proxy.address() as { port: number }).port
      const state = createStateStore(await createLocalStore(await tempDir('weir-kinesis-')))
      const stream = await createKinesisStream({
        checkpoints: state,
        prefix: `t${randomBytes(4).toString('hex')}`,
        shards: 1,
        region: 'us-east-1',
        endpoint: `http://127.0.0.1:${port}`,
        aggregate,
      })
      try {
        // Aggregated, 600 records of 2 KB make five Kinesis records of up to 256 KB.
        const value = (i: number) => Buffer.from(aggregate ? String(i).padEnd(2048) : String(i))
        const at = await stream.publish(
          'w',
          Array.from({ length: 600 }, (_, i) => ({ value: value(i) })),
        )
        expect(refused).toBeGreaterThanOrEqual(least)
        expect(new Set(at.map((p) => p.offset)).size).toBe(600)
        const c = await stream.consumer('g', ['w'])
        const got: string[] = []
        for (let b = await c.poll({ maxRecords: 1_000 }); b.length; b = await c.poll({ maxRecords: 1_000 }))
          got.push(...b.map((d) => Buffer.from(d.value).toString().trim()))
        expect(got.sort()).toEqual(Array.from({ length: 600 }, (_, i) => String(i)).sort())
      } finally {
        await stream.close()
        proxy.closeAllConnections()
        proxy.close()
      }
    },
  )

  it('after a shard split, reads the parent to its end before the children: a key keeps its order', async () => {
    const { connect, prefix } = await open(1)
    const stream = await connect()
    const rec = (i: number) => ({ key: 'city-1', value: Buffer.from(String(i)) })
    await stream.publish(
      'w',
      Array.from({ length: 50 }, (_, i) => rec(i)),
    )
    const { KinesisClient, SplitShardCommand, ListShardsCommand, DescribeStreamSummaryCommand } =
      await import('@aws-sdk/client-kinesis')
    const { NodeHttpHandler } = await import('@smithy/node-http-handler')
    const admin = new KinesisClient({
      region: 'us-east-1',
      endpoint: kinesis!.endpoint,
      requestHandler: new NodeHttpHandler(),
    })
    const streamName = `${prefix}-w`
    const [parent] = (await admin.send(new ListShardsCommand({ StreamName: streamName }))).Shards!
    await admin.send(
      new SplitShardCommand({
        StreamName: streamName,
        ShardToSplit: parent!.ShardId!,
        NewStartingHashKey: String(2n ** 127n),
      }),
    )
    while (
      (await admin.send(new DescribeStreamSummaryCommand({ StreamName: streamName })))
        .StreamDescriptionSummary!.StreamStatus !== 'ACTIVE'
    )
      await new Promise((r) => setTimeout(r, 20))
    await stream.publish(
      'w',
      Array.from({ length: 50 }, (_, i) => rec(50 + i)),
    )
    const c = await stream.consumer('g', ['w'])
    const got: Delivery[] = []
    for (let b = await c.poll({ maxRecords: 30 }); b.length; b = await c.poll({ maxRecords: 30 }))
      got.push(...b)
    expect(got.map((d) => Number(Buffer.from(d.value).toString()))).toEqual(
      Array.from({ length: 100 }, (_, i) => i),
    )
    expect(new Set(got.map((d) => d.partition)).size).toBe(2) // the parent, then one child
    admin.destroy()
    await stream.close()
  })

  it('refuses a record over 1 MiB with a message naming the topic and the limit', async () => {
    const { connect } = await open(1)
    const stream = await connect()
    await expect(stream.publish('big', [{ value: Buffer.alloc(1_100_000) }])).rejects.toThrow(
      /topic "big": record 0 is \d+ bytes, over the 1 MiB Kinesis takes/,
    )
    await stream.close()
  })

  it("aggregates a shard's records (KPL): 2,000 records in a few Kinesis records, which AWS deaggregation reads", async () => {
    const { connect, prefix } = await open(2)
    const stream = await connect()
    const records = Array.from({ length: 2_000 }, (_, i) => ({
      key: `user-${i % 10}`,
      value: Buffer.from(JSON.stringify({ i, text: 'x'.repeat(500) })),
    }))
    await stream.publish('w', records)
    const { KinesisClient, GetShardIteratorCommand, GetRecordsCommand, ListShardsCommand } = await import(
      '@aws-sdk/client-kinesis'
    )
    const { NodeHttpHandler } = await import('@smithy/node-http-handler')
    const sdk = new KinesisClient({
      region: 'us-east-1',
      endpoint: kinesis!.endpoint,
      requestHandler: new NodeHttpHandler(),
    })
    const { createRequire } = await import('node:module')
    const agg = createRequire(import.meta.url)('aws-kinesis-agg') as {
      deaggregateSync(
        r: object,
        checksums: boolean,
        done: (err: Error | null, rs?: { partitionKey: string }[]) => void,
      ): void
    }
    let kinesisRecords = 0
    const keys: string[] = []
    const { Shards } = await sdk.send(new ListShardsCommand({ StreamName: `${prefix}-w` }))
    for (const shard of Shards!) {
      const it = await sdk.send(
        new GetShardIteratorCommand({
          StreamName: `${prefix}-w`,
          ShardId: shard.ShardId!,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      )
      const r = await sdk.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator! }))
      for (const rec of r.Records ?? []) {
        kinesisRecords++
        agg.deaggregateSync(
          {
            data: Buffer.from(rec.Data!).toString('base64'),
            partitionKey: rec.PartitionKey!,
            sequenceNumber: rec.SequenceNumber!,
          },
          true,
          (err, rs) => {
            if (err) throw err
            keys.push(...rs!.map((u) => u.partitionKey))
          },
        )
      }
    }
    sdk.destroy()
    // 2,000 records of ~600 B bound for 2 shards: about 1.2 MB in aggregates of up to 256 KB.
    expect(kinesisRecords).toBeLessThanOrEqual(10)
    expect(keys.length).toBe(2_000)
    expect(new Set(keys)).toEqual(new Set(records.map((r) => r.key)))
    // Read through Weir, 7 at a time, with a commit and a new consumer midway through an aggregate.
    const got: number[] = []
    let c = await stream.consumer('g', ['w'])
    for (let b = await c.poll({ maxRecords: 7 }); b.length; b = await c.poll({ maxRecords: 7 })) {
      got.push(...b.map((d) => JSON.parse(Buffer.from(d.value).toString()).i as number))
      if (got.length === 700) {
        await c.commit(c.position())
        c = await stream.consumer('g', ['w'])
      }
    }
    expect(got.sort((a, b) => a - b)).toEqual(records.map((_, i) => i))
    await stream.close()
  })
})

describe.skipIf(!kinesis)('ingest into Kinesis after a crash', () => {
  it('reads the stream back (every shard, empty ones too) and publishes nothing twice', async () => {
    const { configSchema } = await import('../../src/config/schema.js')
    const { createSource } = await import('../../src/sources/registry.js')
    const { ingest } = await import('../../src/sources/ingest.js')
    // Eight shards for five publishes (each keyless publish goes to one shard in turn): some shards
    // have nothing since the intents, where kinesalite never answers AT_TIMESTAMP.
    const { connect, state } = await open(8)
    const stream = await connect()
    const pull = async function* ({ cursor }: { cursor: unknown }) {
      for (let i = ((cursor as number | undefined) ?? 0) + 1; i <= 6; i++)
        yield { records: [{ resource: 'orders', data: { id: i } }], cursor: i }
    }
    const source = createSource(
      'shop',
      configSchema.parse({ sources: { shop: { kind: 'code', pull } } }).sources.shop!,
    )
    // Dies at the first write that would record batch 2 (or a later one: writes coalesce) as acknowledged.
    let died = false
    const dying = {
      ...state,
      put: async (name: string, value: unknown) => {
        if (name === 'sources/shop' && ((value as { seq?: number }).seq ?? 0) >= 2 && !died) {
          died = true
          throw new Error('killed')
        }
        return state.put(name, value)
      },
    }
    await expect(ingest(source, stream, { put: async () => {} } as never, { state: dying })).rejects.toThrow(
      'killed',
    )
    const r = await ingest(source, stream, { put: async () => {} } as never, { state })
    const c = await stream.consumer('check', ['shop'])
    const ids: number[] = []
    for (let b = await c.poll({ maxRecords: 100 }); b.length; b = await c.poll({ maxRecords: 100 }))
      ids.push(...b.map((d: Delivery) => JSON.parse(Buffer.from(d.value).toString()).id as number))
    expect(ids.sort()).toEqual([1, 2, 3, 4, 5, 6])
    expect(r.records).toBeLessThanOrEqual(5)
    await stream.close()
  }, 60_000)
})
