// Run as its own process by bench/landing.ts, so that each measurement has its own peak RSS. Plain
// JavaScript on the built package (dist/), as the CLI runs: a TypeScript loader would add ~70 MB.
//   publish <dir> <records>                   publish the backlog
//   throughput <dir> <records> <maxRecords> [no-baseline]   land it; then the bare fs baselines
//   latency <dir> <seconds>                   publish one record every 20 ms while landing follows
import { execFileSync } from 'node:child_process'
import { mkdir, open, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { land } from '../dist/landing/landing.js'
import { createStateStore } from '../dist/state/state.js'
import { createLocalStore } from '../dist/storage/local/local-store.js'
import { createEmbeddedStream } from '../dist/stream/embedded/embedded-stream.js'

const [mode, dir, a, b] = process.argv.slice(2)
const PATH = 'raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}'

/** A tweet-like record of about 560 bytes, on one of three days; headers as Weir's ingest sets them. */
function record(i) {
  const day = 20 + (i % 3)
  const created = `2026-11-${day}T${String(i % 24).padStart(2, '0')}:00:00.000Z`
  const doc = {
    id: String(1590000000000000000n + BigInt(i)),
    created_at: created,
    author_id: String(1000 + (i % 5000)),
    text: `tweet ${i} `.padEnd(420, 'lorem ipsum '),
    public_metrics: { like_count: i % 100, retweet_count: i % 7 },
  }
  return {
    value: Buffer.from(JSON.stringify(doc)),
    headers: { resource: 'tweets', run: 'bench', fp: 'f1', et: created },
  }
}

const table = (maxRecords, maxAgeMs) => () => ({
  maxRecords,
  maxBytes: 10 * 1024 * 1024,
  maxAgeMs,
  path: PATH,
  eventTime: 'created_at',
})

if (mode === 'publish') {
  // Its own process, so that the landing process's peak RSS is landing's alone.
  const n = Number(a)
  const stream = await createEmbeddedStream(join(dir, 'stream'))
  for (let i = 0; i < n; i += 1_000)
    await stream.publish(
      'x',
      Array.from({ length: Math.min(1_000, n - i) }, (_, k) => record(i + k)),
    )
  await stream.close()
} else if (mode === 'throughput') {
  const n = Number(a)
  const maxRecords = Number(b)
  const stream = await createEmbeddedStream(join(dir, 'stream'))
  const store = createLocalStore(join(dir, 'lake'))
  // Each measurement starts with nothing left for the disk to write back from the step before.
  const settle = () => execFileSync('sync')
  settle()
  const t0 = performance.now()
  const r = await land(stream, store, {
    topics: ['x'],
    state: createStateStore(store),
    table: table(maxRecords, 3_600_000),
  })
  const landSeconds = (performance.now() - t0) / 1000
  await stream.close()
  const rss = process.resourceUsage().maxRSS / 1024
  if (process.argv[6] === 'no-baseline') {
    process.stdout.write(
      JSON.stringify({ records: r.records, files: r.files, bytes: r.bytes, landSeconds, maxRssMB: rss }),
    )
    process.exit(0)
  }

  // Baseline: the same record bytes, read from one file and written into files of the same size
  // in the same day folders; once with writeFile alone, once with an fsync per file as landing does.
  const src = join(dir, 'records.ndjson')
  const fh = await open(src, 'w')
  for (let i = 0; i < n; i += 10_000) {
    await fh.write(
      Buffer.concat(
        Array.from({ length: Math.min(10_000, n - i) }, (_, k) =>
          Buffer.concat([record(i + k).value, Buffer.from('\n')]),
        ),
      ),
    )
  }
  await fh.close()
  const MAX_BYTES = 10 * 1024 * 1024
  const bare = async (out, sync) => {
    settle()
    const t = performance.now()
    const open_ = new Map()
    let files = 0
    const flush = async (day, lines) => {
      const folder = join(out, String(day))
      await mkdir(folder, { recursive: true })
      const path = join(folder, `${files++}.ndjson`)
      if (!sync) return writeFile(path, Buffer.concat(lines))
      const f = await open(path, 'w')
      await f.writeFile(Buffer.concat(lines))
      await f.sync()
      await f.close()
    }
    // Read in 8 MB chunks and cut lines, as a hand-written mover would: bounded memory, no strings.
    const rh = await open(src, 'r')
    const chunk = Buffer.allocUnsafe(8 * 1024 * 1024)
    let carry = Buffer.alloc(0)
    let i = 0
    for (;;) {
      const { bytesRead } = await rh.read(chunk, 0, chunk.length)
      if (bytesRead === 0) break
      const buf = Buffer.concat([carry, chunk.subarray(0, bytesRead)])
      let start = 0
      for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
        const line = Buffer.from(buf.subarray(start, nl + 1))
        start = nl + 1
        const day = i++ % 3
        const b = open_.get(day) ?? { lines: [], bytes: 0 }
        open_.set(day, b)
        if (b.bytes + line.length > MAX_BYTES) {
          await flush(day, b.lines)
          b.lines = []
          b.bytes = 0
        }
        b.lines.push(line)
        b.bytes += line.length
        if (b.lines.length >= maxRecords) {
          await flush(day, b.lines)
          b.lines = []
          b.bytes = 0
        }
      }
      carry = Buffer.from(buf.subarray(start))
    }
    await rh.close()
    for (const [day, b] of open_) if (b.lines.length) await flush(day, b.lines)
    return (performance.now() - t) / 1000
  }
  const bareSeconds = await bare(join(dir, 'bare'), false)
  const syncedSeconds = await bare(join(dir, 'synced'), true)
  process.stdout.write(
    JSON.stringify({
      records: r.records,
      files: r.files,
      bytes: r.bytes,
      landSeconds,
      bareSeconds,
      syncedSeconds,
      maxRssMB: rss,
    }),
  )
} else if (mode === 'latency') {
  const seconds = Number(a)
  const stream = await createEmbeddedStream(join(dir, 'stream'))
  const store = createLocalStore(join(dir, 'lake'))
  const stop = new AbortController()
  const oldest = []
  const newest = []
  const running = land(stream, store, {
    topics: ['x'],
    state: createStateStore(store),
    table: table(100_000, 1_000),
    follow: true,
    signal: stop.signal,
    onFile: (f) => {
      const now = Date.now()
      oldest.push(now - f.published.min)
      newest.push(now - f.published.max)
    },
  })
  const end = Date.now() + seconds * 1000
  for (let i = 0; Date.now() < end; i++) {
    await stream.publish('x', [record(i)])
    await new Promise((r) => setTimeout(r, 20))
  }
  await new Promise((r) => setTimeout(r, 1_500))
  stop.abort()
  await running
  await stream.close()
  process.stdout.write(JSON.stringify({ oldest, newest }))
}
