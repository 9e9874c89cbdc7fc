import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { configSchema } from '../../src/config/schema.js'
import { createSource, SOURCE_KINDS } from '../../src/sources/registry.js'
import { startSimulator } from '../../src/sources/simulator/simulator.js'
import { type SourceHarness, sourceContract } from '../contract/source.contract.js'
import { tempDir } from '../helpers/services.js'

/** A source built the way a project builds it: config parsed, then the registry's definition. */
function build(name: string, config: Record<string, unknown>, baseDir?: string) {
  const sources = configSchema.parse({ sources: { [name]: config } }).sources
  return createSource(name, sources[name]!, sources, baseDir)
}

const nothing = async () => undefined

/** One harness per built-in source kind, against the simulator or real files. */
const harnesses: Record<string, () => Promise<SourceHarness>> = {
  async demo() {
    return {
      source: build('d', { kind: 'demo', dataset: 'weather', count: 600 }),
      expected: 600,
      resumes: false,
      close: nothing,
    }
  },
  async code() {
    // Code that honours its cursor, as the docs ask: the last id it published.
    async function* pull({ cursor }: { cursor: unknown }) {
      for (let id = ((cursor as number | undefined) ?? 0) + 1; id <= 12; id += 4) {
        const ids = [id, id + 1, id + 2, id + 3].filter((i) => i <= 12)
        yield { records: ids.map((i) => ({ resource: 'orders', data: { id: i } })), cursor: ids.at(-1) }
      }
    }
    return { source: build('c', { kind: 'code', pull }), expected: 12, resumes: true, close: nothing }
  },
  async file() {
    const dir = await tempDir('weir-file-contract-')
    const lines = Array.from({ length: 25 }, (_, i) => JSON.stringify({ id: i, city: 'toronto', t: 20 + i }))
    await writeFile(join(dir, 'readings.ndjson'), `${lines.join('\n')}\n`)
    await writeFile(join(dir, 'stations.csv'), 'id,name\n1,Pearson\n2,Island\n3,Downsview\n')
    return {
      source: build('f', { kind: 'file', path: '*', batchSize: 4 }, dir),
      expected: 28,
      resumes: true,
      close: nothing,
    }
  },
  async rest() {
    const now = Date.now()
    const sim = await startSimulator({ tweetsPerHour: 120, historyDays: 2, now: () => now })
    return {
      source: build('x', {
        preset: 'x.recent_search',
        baseUrl: sim.url,
        auth: { bearer: 'contract-token' },
        params: { query: ['#duckdb'] },
      }),
      resumes: true,
      close: () => sim.close(),
    }
  },
  async 'http-stream'() {
    // An SSE feed read for its one-shot window; resumed by Last-Event-ID.
    const sim = await startSimulator({ streams: { rate: 200, keepAliveMs: 50 } })
    return {
      source: build('feed', {
        kind: 'http-stream',
        baseUrl: sim.url,
        path: '/sse/readings',
        format: 'sse',
        runFor: '400ms',
        batch: { maxAge: '50ms' },
      }),
      resumes: true,
      close: () => sim.close(),
    }
  },
}

describe('sources', () => {
  it('every built-in source kind runs the contract', () => {
    expect(SOURCE_KINDS.map((d) => d.kind).sort()).toEqual(Object.keys(harnesses).sort())
  })
})

for (const [kind, start] of Object.entries(harnesses)) sourceContract(kind, start)
