import { execFileSync } from 'node:child_process'
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
  const nats = await natsThroughput(Math.min(n, 50_000)).catch(() => undefined)
  const kinesis = await kinesisThroughput(dir, Math.min(n, 20_000)).catch(() => undefined)
  const mb = (n * SIZE) / 1e6
  const rate = (x: number | undefined, where: string) =>
    x ? `${where}: ${Math.round(x).toLocaleString('en-US')} records/s` : `${where}: not reachable`
  return {
    name: 'stream-embedded',
    unit: 'records/s',
    value: n / embedded,
    baseline: { name: 'bare fs append then read of the same bytes', value: n / base },
    ratio: base / embedded,
    notes: `${n.toLocaleString('en-US')} records of ${SIZE} B (${mb.toFixed(0)} MB) published in batches of ${BATCH}, 4 in flight (group commit, fsynced), and consumed: ${(mb / embedded).toFixed(0)} MB/s; median of 3 interleaved runs; goal ratio >= 0.5; against the same bare append fsynced as often as the log's group commits (${(n / synced).toLocaleString('en-US', { maximumFractionDigits: 0 })} records/s) the ratio is ${(synced / embedded).toFixed(2)}; ${rate(nats, 'NATS JetStream on loopback (1 partition)')}; ${rate(kinesis, 'Kinesis on kinesalite (2 shards, in memory)')}`,
    details: {
      embeddedSeconds: embeddedRuns,
      baselineSeconds: baseRuns,
      fsyncedBaselineSeconds: syncedRuns,
      ratioToFsyncedBaseline: synced / embedded,
      natsRecordsPerSecond: nats,
      kinesaliteRecordsPerSecond: kinesis,
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
    await (await jetstreamManager(nc)).streams.delete(`${prefix}_t`).catch(() => false)
    await nc.drain()
  }
}

/** Kinesis through the AWS SDK against kinesalite in this process: the adapter's own cost, not AWS's. */
async function kinesisThroughput(dir: string, n: number): Promise<number> {
  const kinesalite = createRequire(import.meta.url)('kinesalite') as (o: object) => import('node:http').Server
  const server = kinesalite({ createStreamMs: 5, shardLimit: 50 })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  process.env.AWS_ACCESS_KEY_ID ??= 'bench'
  process.env.AWS_SECRET_ACCESS_KEY ??= 'bench'
  const { createKinesisStream } = await import('../src/stream/kinesis/kinesis-stream.js')
  const state = createStateStore(await createLocalStore(join(dir, 'kinesis-state')))
  const ks = await createKinesisStream({
    checkpoints: state,
    shards: 2,
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
  })
  try {
    return n / (await publishConsume(ks, 't', n))
  } finally {
    await ks.close()
    server.closeAllConnections()
    server.close()
  }
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
