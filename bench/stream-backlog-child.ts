// Run as its own process by bench/stream.ts: publishes a backlog, then one consumer reads it all.
// Its peak RSS shows whether the log holds memory proportional to the backlog.
import { createEmbeddedStream } from '../src/stream/embedded/embedded-stream.js'

const [dir, bytesArg] = process.argv.slice(2) as [string, string]
const value = Buffer.alloc(560, 120)
const headers = { resource: 'r' }
const n = Math.ceil(Number(bytesArg) / 560)
const s = await createEmbeddedStream(dir)
const t0 = performance.now()
for (let i = 0; i < n; i += 1000) {
  await s.publish(
    't',
    Array.from({ length: Math.min(1000, n - i) }, () => ({ value, headers })),
  )
}
const published = performance.now()
const c = await s.consumer('slow', ['t'])
let got = 0
for (let b = await c.poll({ maxRecords: 5_000 }); b.length; b = await c.poll({ maxRecords: 5_000 })) {
  got += b.length
  await c.commit(c.position())
}
await s.close()
process.stdout.write(
  JSON.stringify({
    records: got,
    publishSeconds: (published - t0) / 1000,
    consumeSeconds: (performance.now() - published) / 1000,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  }),
)
