// Run as its own process by bench/csv-ingest.ts, so its peak RSS is the CSV ingest's alone.
import { configSchema } from '../src/config/schema.js'
import { ingest } from '../src/sources/ingest.js'
import { createSource } from '../src/sources/registry.js'
import { createStateStore } from '../src/state/state.js'
import { createLocalStore } from '../src/storage/local/local-store.js'
import { createEmbeddedStream } from '../src/stream/embedded/embedded-stream.js'

const [file, lake, streamDir] = process.argv.slice(2) as [string, string, string]
const config = configSchema.parse({
  sources: { movies: { kind: 'file', path: file, csv: { delimiter: '|', null: '\\N' }, raw: 'both' } },
})
const store = createLocalStore(lake)
const stream = await createEmbeddedStream(streamDir)
const t0 = performance.now()
const r = await ingest(createSource('movies', config.sources.movies!, config.sources), stream, store, {
  state: createStateStore(store),
})
const secs = (performance.now() - t0) / 1000
await stream.close()
process.stdout.write(
  JSON.stringify({
    records: r.records,
    files: r.files,
    seconds: secs,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  }),
)
