// Run as its own process by bench/refine.ts: writes a raw zone of about <megabytes> MB of tweets
// (files of ~10 MB, as landing writes them), registers it, refines it, and reports peak RSS.
// Plain JavaScript on the built package (dist/), as the CLI runs. With WEIR_GENERATE_ONLY=1 it only
// writes the files (run it so first, and the refine's peak RSS is not the generator's).
import { mkdir, open, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { putTable } from '../dist/catalog/catalog.js'
import { createEngine } from '../dist/engine/engine.js'
import { refine } from '../dist/refine/refine.js'
import { createStateStore } from '../dist/state/state.js'
import { createLocalStore } from '../dist/storage/local/local-store.js'

const [dir, megabytes] = process.argv.slice(2)
const lake = join(dir, 'lake')
const store = createLocalStore(lake)
const marker = join(dir, 'generated.json')
let bytes = Number(JSON.parse(await readFile(marker, 'utf8').catch(() => '{"bytes":0}')).bytes)
let id = 0
for (let f = 0; bytes === 0 || bytes < Number(megabytes) * 1e6; f++) {
  const day = 20 + (f % 3)
  const folder = join(lake, `raw/x/json/tweets/2026/11/${day}`)
  await mkdir(folder, { recursive: true })
  const fh = await open(join(folder, `p0-${String(f).padStart(9, '0')}.ndjson`), 'w')
  const lines = []
  for (let size = 0; size < 10e6; ) {
    const line = `${JSON.stringify({
      id: String(1590000000000000000n + BigInt(id++)),
      created_at: `2026-11-${day}T${String(id % 24).padStart(2, '0')}:00:00.000Z`,
      author_id: String(1000 + (id % 5000)),
      text: `tweet ${id} `.padEnd(400, 'lorem ipsum '),
      public_metrics: { like_count: id % 100, retweet_count: id % 7 },
      entities: { hashtags: [{ tag: `t${id % 9}` }] },
    })}\n`
    lines.push(line)
    size += line.length
  }
  const body = lines.join('')
  await fh.writeFile(body)
  await fh.close()
  bytes += body.length
}
await writeFile(marker, JSON.stringify({ bytes }))
if (process.env.WEIR_GENERATE_ONLY) process.exit(0)
await putTable(store, {
  zone: 'raw',
  name: 'x_tweets',
  source: 'x',
  resource: 'tweets',
  location: 'raw/x/json/tweets/',
  format: 'ndjson',
  partitioning: ['yyyy', 'mm', 'dd'],
  columns: [],
  updatedAt: new Date().toISOString(),
})
const engine = await createEngine({
  tempDirectory: join(dir, 'duckdb-tmp'),
  ...(process.env.WEIR_MEMORY ? { memoryLimit: process.env.WEIR_MEMORY } : {}),
})
// Knobs for measuring by hand: WEIR_MEMORY (memory_limit), WEIR_SQL ('SET threads=1;...'), WEIR_BATCH_MB.
for (const st of (process.env.WEIR_SQL ?? '').split(';').filter(Boolean)) await engine.run(st)
const t0 = performance.now()
const [r] = await refine(store, engine, createStateStore(store), {
  tables: { 'x.tweets': { eventTime: 'created_at', primaryKey: 'id' } },
  stagingDir: join(dir, 'staging'),
  ...(process.env.WEIR_BATCH_MB ? { batchBytes: Number(process.env.WEIR_BATCH_MB) * 1e6 } : {}),
})
const seconds = (performance.now() - t0) / 1000
await engine.close()
process.stdout.write(
  JSON.stringify({
    rawBytes: bytes,
    records: r.records,
    files: r.files,
    seconds,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  }),
)
