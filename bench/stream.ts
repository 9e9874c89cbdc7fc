import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { open, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { createStateStore } from '../src/state/state.js'
import { createLocalStore } from '../src/storage/local/local-store.js'
import { createEmbeddedStream } from '../src/stream/embedded/embedded-stream.js'
import type { Stream } from '../src/stream/stream.js'
import { type BenchResult, median, seconds } from './types.js'

const SIZE = 560
const BATCH = 500

/** Publishes `n` records of 560 bytes in batches, then one group reads and commits them all. */
async function publishConsume(stream: Stream, topic: string, n: number): Promise<number> {
  const value = Buffer.alloc(SIZE, 120)
  return seconds(async () => {
    // Four publishes in flight, as several sources publishing at once would be: group commit then
    // makes them share fsyncs.
    const headers = { resource: 'r' }
    const inFlight = new Set<Promise<unknown>>()
    for (let i = 0; i < n; i += BATCH) {
      const p = stream.publish(
        topic,
        Array.from({ length: Math.min(BATCH, n - i) }, () => ({ value, headers })),
      )
      inFlight.add(p)
      void p.then(() => inFlight.delete(p))
      if (inFlight.size >= 4) await Promise.race(inFlight)
    }
    await Promise.all(inFlight)
    const c = await stream.consumer('bench', [topic])
    let got = 0
    for (let b = await c.poll({ maxRecords: 5_000 }); b.length; b = await c.poll({ maxRecords: 5_000 }))
      got += b.length
    await c.commit(c.position())
    await c.close()
    if (got !== n) throw new Error(`stream bench: consumed ${got} of ${n}`)
  })
}

/**
 * The embedded log (framed, checksummed, fsynced per publish) against a bare sequential append and
 * read of the same bytes with `fs`, in the same run. Both are limited by how fast this machine's
 * disk takes writes, which varies from one moment to the next, so they run three times, interleaved,
 * and the medians are compared. NATS JetStream on loopback and Kinesis on kinesalite are reported too.
 */
export async function streamBench(dir: string, n: number): Promise<BenchResult> {
  const embeddedRuns: number[] = []
  const baseRuns: number[] = []
  /** The same bare append with an fdatasync per four batches: what durability alone costs on this disk. */
  const syncedRuns: number[] = []
  // Each measurement starts with nothing left for the disk to write back from the one before (\`sync\`),
  // or the unsynced baseline's 280 MB would be flushed during the next run and slow it down.
  const settle = () => execFileSync('sync')
  for (let round = 0; round < 3; round++) {
    settle()
    const log = await createEmbeddedStream(join(dir, `log${round}`))
    embeddedRuns.push(await publishConsume(log, 't', n))
    await log.close()
    await rm(join(dir, `log${round}`), { recursive: true, force: true })
    settle()
    baseRuns.push(await bareFs(join(dir, 'plain.bin'), n, false))
    settle()
    syncedRuns.push(await bareFs(join(dir, 'plain.bin'), n, true))
  }
  const embedded = median(embeddedRuns)
  const base = median(baseRuns)
  const synced = median(syncedRuns)
  // NATS writes to its own disk too: each run starts settled, and the median of three is taken.
  const natsRuns: number[] = []
  for (let round = 0; round < 3; round++) {
    settle()
    const r = await natsThroughput(Math.min(n, 200_000)).catch(() => undefined)
    if (r !== undefined) natsRuns.push(r)
  }
  const nats = natsRuns.length ? median(natsRuns) : undefined
  const k = await kinesisThroughput(dir, Math.min(n, 20_000)).catch(() => undefined)
  const kinesis = k?.recordsPerSecond
  const quota = k
    ? `; one Kinesis shard's quota (1,000 records/s, 1 MiB/s) carries, of 560 B tweets with ingest's headers: ${k.quota
        .map(
          (q) =>
            `${q.mode} ${Math.round(q.recordsPerSecond).toLocaleString('en-US')} records/s (${q.perRecord.toFixed(1)} per Kinesis record, ${Math.round(q.bytesPerRecord)} B each)`,
        )
        .join('; ')} (goal >= 1,800 aggregated, >= 5,000 with compression)`
    : ''
  const mb = (n * SIZE) / 1e6
  const rate = (x: number | undefined, where: string) =>
    x ? `${where}: ${Math.round(x).toLocaleString('en-US')} records/s` : `${where}: not reachable`
  return {
    name: 'stream-embedded',
    unit: 'records/s',
    value: n / embedded,
    baseline: { name: 'bare fs append then read of the same bytes', value: n / base },
    ratio: base / embedded,
    notes: `${n.toLocaleString('en-US')} records of ${SIZE} B (${mb.toFixed(0)} MB) published in batches of ${BATCH}, 4 in flight (group commit, fsynced), and consumed: ${(mb / embedded).toFixed(0)} MB/s; median of 3 interleaved runs; goal ratio >= 0.5; against the same bare append fsynced as often as the log's group commits (${(n / synced).toLocaleString('en-US', { maximumFractionDigits: 0 })} records/s) the ratio is ${(synced / embedded).toFixed(2)}; ${rate(nats, `NATS JetStream on loopback (1 partition, ${Math.min(n, 200_000).toLocaleString('en-US')} records packed into messages of up to 1,000, median of 3; goal >= 100,000)`)}; ${rate(kinesis, 'Kinesis on kinesalite (2 shards, in memory)')}${quota}`,
    details: {
      embeddedSeconds: embeddedRuns,
      baselineSeconds: baseRuns,
      fsyncedBaselineSeconds: syncedRuns,
      ratioToFsyncedBaseline: synced / embedded,
      natsRecordsPerSecond: nats,
      kinesaliteRecordsPerSecond: kinesis,
      kinesisShardQuota: k?.quota,
    },
  }
}

async function bareFs(file: string, n: number, sync: boolean): Promise<number> {
  const chunk = Buffer.alloc(SIZE * BATCH, 120)
  const t = await seconds(async () => {
    const fh = await open(file, 'a')
    for (let i = 0; i < n; i += BATCH) {
      await fh.write(chunk, 0, SIZE * Math.min(BATCH, n - i))
      if (sync && (i / BATCH) % 4 === 3) await fh.datasync()
    }
    if (sync) await fh.datasync()
    await fh.close()
    const rh = await open(file, 'r')
    const buf = Buffer.allocUnsafe(SIZE * 5_000)
    while ((await rh.read(buf, 0, buf.length)).bytesRead > 0) {}
    await rh.close()
  })
  await rm(file, { force: true })
  return t
}

async function natsThroughput(n: number): Promise<number> {
  const url = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'
  const { createNatsStream } = await import('../src/stream/nats/nats-stream.js')
  const prefix = `weirbench${Date.now()}`
  const ns = await createNatsStream({ url, prefix })
  try {
    return n / (await publishConsume(ns, 't', n))
  } finally {
    await ns.close()
    const { connect } = await import('@nats-io/transport-node')
    const { jetstreamManager } = await import('@nats-io/jetstream')
    const nc = await connect({ servers: url })
    const jsm = await jetstreamManager(nc)
    for (const name of [`${prefix}_t`, `KV_${prefix}-positions`])
      await jsm.streams.delete(name).catch(() => false)
    await nc.drain()
  }
}

/** What one Kinesis shard's quota carries, per way of packing Weir's records. */
export interface ShardQuota {
  readonly mode: string
  /** Weir records per Kinesis record. */
  readonly perRecord: number
  /** Bytes one Weir record costs in the shard's 1 MiB/s (envelope and framing included). */
  readonly bytesPerRecord: number
  /** Weir records a second one shard takes: within 1,000 Kinesis records/s and 1 MiB/s. */
  readonly recordsPerSecond: number
}

/**
 * Kinesis through the AWS SDK against kinesalite in this process (the adapter's own cost, not
 * AWS's), and what one shard's quota carries: 560 B tweets with the headers ingest gives them,
 * published unpacked, KPL-aggregated and aggregated with gzip, then counted and weighed as
 * Kinesis records by reading the stream with the SDK.
 */
async function kinesisThroughput(
  dir: string,
  n: number,
): Promise<{ recordsPerSecond: number; quota: ShardQuota[] }> {
  const kinesalite = createRequire(import.meta.url)('kinesalite') as (o: object) => import('node:http').Server
  const server = kinesalite({ createStreamMs: 5, shardLimit: 50 })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  process.env.AWS_ACCESS_KEY_ID ??= 'bench'
  process.env.AWS_SECRET_ACCESS_KEY ??= 'bench'
  const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  const { createKinesisStream } = await import('../src/stream/kinesis/kinesis-stream.js')
  const state = createStateStore(await createLocalStore(join(dir, 'kinesis-state')))
  const open = (prefix: string, aggregate: boolean, gzip: boolean) =>
    createKinesisStream({
      checkpoints: state,
      prefix,
      shards: 1,
      region: 'us-east-1',
      endpoint,
      aggregate,
      gzip,
    })
  const ks = await createKinesisStream({ checkpoints: state, shards: 2, region: 'us-east-1', endpoint })
  try {
    const recordsPerSecond = n / (await publishConsume(ks, 't', n))
    const quota: ShardQuota[] = []
    for (const [mode, aggregate, gzip] of [
      ['a Kinesis record per record', false, false],
      ['KPL aggregation', true, false],
      ['KPL aggregation + gzip', true, true],
    ] as const) {
      const s = await open(`q${quota.length}`, aggregate, gzip)
      const sent = tweets(5_000)
      for (let i = 0; i < sent.length; i += 500) await s.publish('t', sent.slice(i, i + 500))
      const { count, bytes } = await weigh(endpoint, `q${quota.length}-t`)
      await s.close()
      const perRecord = sent.length / count
      const bytesPerRecord = bytes / sent.length
      quota.push({
        mode,
        perRecord,
        bytesPerRecord,
        recordsPerSecond: Math.min(1_000 * perRecord, 1_048_576 / bytesPerRecord),
      })
    }
    return { recordsPerSecond, quota }
  } finally {
    await ks.close()
    server.closeAllConnections()
    server.close()
  }
}

/** Tweets of about 560 B, with the headers ingest sets, text varied as real text is (for gzip). */
function tweets(n: number) {
  // A vocabulary of 500 made-up words, drawn at random (seeded): text that gzip shrinks about as
  // much as real tweets, not a repeated phrase it would make vanish.
  let seed = 42
  const rand = (m: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed % m
  }
  const letters = 'etaoinshrdlucmfwypvbgkjqxz'
  const words = Array.from({ length: 500 }, () =>
    Array.from({ length: 2 + rand(8) }, () => letters[Math.min(25, rand(12) + rand(15))]).join(''),
  )
  const run = randomUUID()
  return Array.from({ length: n }, (_, i) => {
    let text = ''
    while (text.length < 300) text += `${words[rand(words.length)]} `
    const at = new Date(Date.now() - i * 1000).toISOString()
    const value = Buffer.from(
      JSON.stringify({
        id: String(1590000000000000000n + BigInt(i)),
        author_id: String(1000 + (i % 5000)),
        created_at: at,
        text: `${text}#${i % 97}`,
        public_metrics: { like_count: i % 100, retweet_count: i % 7, reply_count: i % 3, quote_count: 0 },
        lang: 'en',
        conversation_id: String(1590000000000000000n + BigInt(i - (i % 3))),
      }),
    )
    return {
      value,
      headers: {
        source: 'x',
        resource: 'tweets',
        run,
        ingested: new Date().toISOString(),
        fp: randomUUID().slice(0, 16),
        batch: `${run.slice(0, 8)}:${Math.floor(i / 500)}:${i % 500}`,
        et: at,
      },
    }
  })
}

/** Kinesis records in a single-shard stream and their bytes (data and partition key), read with the SDK. */
async function weigh(endpoint: string, name: string): Promise<{ count: number; bytes: number }> {
  const k = await import('@aws-sdk/client-kinesis')
  const { NodeHttpHandler } = await import('@smithy/node-http-handler')
  const sdk = new k.KinesisClient({ region: 'us-east-1', endpoint, requestHandler: new NodeHttpHandler() })
  const { Shards } = await sdk.send(new k.ListShardsCommand({ StreamName: name }))
  let count = 0
  let bytes = 0
  for (const shard of Shards ?? []) {
    const first = await sdk.send(
      new k.GetShardIteratorCommand({
        StreamName: name,
        ShardId: shard.ShardId!,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    )
    for (let it = first.ShardIterator; it; ) {
      const r = await sdk.send(new k.GetRecordsCommand({ ShardIterator: it }))
      for (const rec of r.Records ?? []) {
        count++
        bytes += (rec.Data?.length ?? 0) + Buffer.byteLength(rec.PartitionKey ?? '')
      }
      if (!r.Records?.length) break
      it = r.NextShardIterator
    }
  }
  sdk.destroy()
  return { count, bytes }
}

/** A consumer 1 GB behind: the log must not hold memory in proportion to the backlog. */
export async function streamBacklog(dir: string, megabytes: number): Promise<BenchResult> {
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'jiti/register',
      'bench/stream-backlog-child.ts',
      join(dir, 'log'),
      String(megabytes * 1_000_000),
    ],
    { encoding: 'utf8' },
  )
  const r = JSON.parse(out) as {
    records: number
    publishSeconds: number
    consumeSeconds: number
    maxRssMB: number
  }
  // Baseline: the same child with a 1 MB backlog, so the ratio shows what the backlog itself costs.
  const small = JSON.parse(
    execFileSync(
      process.execPath,
      ['--import', 'jiti/register', 'bench/stream-backlog-child.ts', join(dir, 'small'), '1000000'],
      {
        encoding: 'utf8',
      },
    ),
  ) as { maxRssMB: number }
  return {
    name: 'stream-backlog',
    unit: 'MB peak RSS',
    value: r.maxRssMB,
    baseline: { name: 'the same with a 1 MB backlog', value: small.maxRssMB },
    ratio: r.maxRssMB / small.maxRssMB,
    notes: `${megabytes} MB backlog (${r.records.toLocaleString('en-US')} records of 560 B) published in ${r.publishSeconds.toFixed(1)} s, then read by one group in ${r.consumeSeconds.toFixed(1)} s`,
    details: r,
  }
}
