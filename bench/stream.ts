import { execFileSync } from 'node:child_process'
import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { createEmbeddedStream } from '../src/stream/embedded/embedded-stream.js'
import type { Stream } from '../src/stream/stream.js'
import { type BenchResult, seconds } from './types.js'

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
 * read of the same bytes with `fs`, in the same run; NATS JetStream on loopback when it is up.
 */
export async function streamBench(dir: string, n: number): Promise<BenchResult> {
  const log = await createEmbeddedStream(join(dir, 'log'))
  const embedded = await publishConsume(log, 't', n)
  await log.close()

  const file = join(dir, 'plain.bin')
  const chunk = Buffer.alloc(SIZE * BATCH, 120)
  const base = await seconds(async () => {
    const fh = await open(file, 'a')
    for (let i = 0; i < n; i += BATCH) await fh.write(chunk, 0, SIZE * Math.min(BATCH, n - i))
    await fh.close()
    const rh = await open(file, 'r')
    const buf = Buffer.allocUnsafe(SIZE * 5_000)
    while ((await rh.read(buf, 0, buf.length)).bytesRead > 0) {}
    await rh.close()
  })
  await rm(file, { force: true })

  let nats: number | undefined
  try {
    const { createNatsStream } = await import('../src/stream/nats/nats-stream.js')
    const prefix = `weirbench${Date.now()}`
    const ns = await createNatsStream({ url: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', prefix })
    nats = await publishConsume(ns, 't', Math.min(n, 50_000)).then((s) => Math.min(n, 50_000) / s)
    await ns.close()
    const { connect } = await import('@nats-io/transport-node')
    const { jetstreamManager } = await import('@nats-io/jetstream')
    const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' })
    await (await jetstreamManager(nc)).streams.delete(`${prefix}_t`)
    await nc.drain()
  } catch {
    nats = undefined
  }
  const mb = (n * SIZE) / 1e6
  return {
    name: 'stream-embedded',
    unit: 'records/s',
    value: n / embedded,
    baseline: { name: 'bare fs append then read of the same bytes', value: n / base },
    ratio: base / embedded,
    notes: `${n.toLocaleString('en-US')} records of ${SIZE} B (${mb.toFixed(0)} MB) published in batches of ${BATCH}, 4 in flight (group commit, fsynced), and consumed: ${(mb / embedded).toFixed(0)} MB/s; goal ratio >= 0.5${nats ? `; NATS JetStream on loopback: ${Math.round(nats).toLocaleString('en-US')} records/s` : '; NATS not reachable'}`,
    details: { embeddedSeconds: embedded, baselineSeconds: base, natsRecordsPerSecond: nats },
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
