import { randomBytes } from 'node:crypto'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startSimulator } from '../../src/sources/simulator/simulator.js'
import { startWeir, weir } from '../helpers/cli.js'
import { dropNatsStreams } from '../helpers/nats.js'
import { tempDir } from '../helpers/services.js'

/**
 * The whole-process crash suite: `weir run` as a real process, SIGKILLed again and again at moments
 * chosen to fall in different stages, then `weir run --once`. Tables have no primary key, so no
 * dedupe can hide a duplicate: raw lines, trusted rows and distinct ids must all equal the input.
 */
export type SourceKind = 'ndjson' | 'csv' | 'rest' | 'code'
export type StreamKind = 'embedded' | 'nats'

export interface CrashCase {
  readonly source: SourceKind
  readonly stream: StreamKind
  readonly kills: number
  /** Records of the input (files, code); for REST, the simulator's tweets per hour. */
  readonly size: number
  readonly natsUrl?: string
  /** The trusted table keeps Iceberg metadata (`format: iceberg`), read back with icebird at the end. */
  readonly iceberg?: boolean
}

export interface CrashReport {
  readonly name: string
  readonly kills: number
  /** Which stages were running at each kill: `ingest` (the source's run) or `land/refine`. */
  readonly stages: Readonly<Record<string, number>>
  readonly expected: number
  readonly raw: { readonly lines: number; readonly distinct: number }
  readonly trusted: { readonly rows: number; readonly distinct: number }
  /** What an Iceberg reader reads of the trusted table, when the case keeps Iceberg metadata. */
  readonly iceberg?: { readonly rows: number; readonly distinct: number }
  readonly lag: number
  readonly onceCode: number
  readonly onceStderr: string
  readonly missing: number
  readonly seconds: number
}

const TABLE: Record<SourceKind, string> = {
  ndjson: 'src_events',
  csv: 'src_rows',
  rest: 'src_tweets',
  code: 'src_events',
}

/** Runs one case and reports what it found; the caller asserts. */
export async function runCrashCase(
  c: CrashCase,
  log: (line: string) => void = () => {},
): Promise<CrashReport> {
  const t0 = performance.now()
  const dir = await tempDir(`weir-crash-${c.source}-`)
  // The simulator's clock moves only between rounds: each round has new tweets to fetch, and the
  // oracle asks the same world the last round saw.
  let clock = Date.parse('2026-11-20T12:00:00Z')
  const sim =
    c.source === 'rest'
      ? await startSimulator({
          now: () => clock,
          tweetsPerHour: c.size,
          historyDays: 1,
          failRate: 0.1,
          latencyMs: 15,
          seed: 7,
        })
      : undefined
  const prefix = `weircrash${randomBytes(4).toString('hex')}`
  try {
    await writeProject(dir, c, sim?.url, prefix)
    const stages: Record<string, number> = {}
    for (let k = 0; k < c.kills; k++) {
      // New input every round, so every run has a source's worth of work to be killed in.
      await addInput(dir, c, k)
      clock += 20 * 60_000
      if (process.env.WEIR_CRASH_TRACE) {
        const { appendFile } = await import('node:fs/promises')
        const doc = await readFile(join(dir, 'lake', '_state', 'sources', 'src.json'), 'utf8').catch(
          () => '{}',
        )
        await appendFile(
          process.env.WEIR_CRASH_TRACE,
          `${JSON.stringify({ round: k, dir, doc: JSON.parse(doc) })}\n`,
        )
      }
      const stage = await runAndKill(dir, k)
      stages[stage] = (stages[stage] ?? 0) + 1
      log(`${c.source}/${c.stream}: kill ${k + 1}/${c.kills} during ${stage}`)
    }
    const once = await weir(['run', '--once'], {}, dir)
    const ids = await rawIds(dir, c.source)
    const q = await weir(
      [
        'query',
        `select count(*) as n, count(distinct id) as d from trusted.${TABLE[c.source]}`,
        '-f',
        'json',
      ],
      {},
      dir,
    )
    const [t] = q.code === 0 ? (JSON.parse(q.stdout) as { n: number; d: number }[]) : [{ n: -1, d: -1 }]
    const status = await weir(['status', '--format', 'json'], {}, dir)
    const lag =
      status.code === 0
        ? (JSON.parse(status.stdout) as { groups: { lag?: number }[] }).groups.reduce(
            (n, g) => n + (g.lag ?? 0),
            0,
          )
        : -1
    const iceberg = c.iceberg ? await icebergIds(dir, TABLE[c.source]) : undefined
    const want = sim ? await oracle(sim.url) : idsUpTo(c.size)
    const got = new Set(ids)
    return {
      name: `${c.source}/${c.stream}`,
      kills: c.kills,
      stages,
      expected: want.size,
      raw: { lines: ids.length, distinct: got.size },
      trusted: { rows: Number(t!.n), distinct: Number(t!.d) },
      ...(iceberg ? { iceberg: { rows: iceberg.length, distinct: new Set(iceberg).size } } : {}),
      lag,
      onceCode: once.code,
      onceStderr: once.stderr.trim().split('\n').slice(-3).join(' | '),
      missing: [...want].filter((id) => !got.has(id)).length,
      seconds: Math.round((performance.now() - t0) / 1000),
    }
  } finally {
    await sim?.close()
    if (c.stream === 'nats') await dropNatsStreams(c.natsUrl!, [prefix])
  }
}

/**
 * One `weir run`, killed with SIGKILL: even rounds while the source's run is going (from its start
 * event), odd rounds after it ended (landing and refine at work). Returns the stage it fell in.
 */
async function runAndKill(dir: string, round: number): Promise<string> {
  const w = startWeir(['run'], dir)
  const during = round % 2 === 0
  const started = Date.now()
  let ingestRunning = false
  let killAt: number | undefined
  for (;;) {
    await new Promise((r) => setTimeout(r, 20))
    const events = w
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { job: string; event: string })
    const src = events.filter((e) => e.job === 'src')
    const last = src.at(-1)
    ingestRunning = last?.event === 'started' || last?.event === 'retrying'
    if (killAt === undefined) {
      if (during && ingestRunning) killAt = Date.now() + Math.random() * 200
      // Its run ended (a 'scheduled' line says only when the next is due).
      if (!during && src.some((e) => ['succeeded', 'partial', 'failed', 'skipped'].includes(e.event)))
        killAt = Date.now() + 100 + Math.random() * 1_500
      // A round whose moment never comes (a source with nothing left) is killed anyway.
      if (Date.now() - started > 8_000) killAt = Date.now()
    }
    if (killAt !== undefined && Date.now() >= killAt) break
    if (w.exited()) break
  }
  const stage = ingestRunning ? 'ingest' : 'land/refine'
  w.kill('SIGKILL')
  await w.done
  return stage
}

/** Records of round `k` of `kills`: an equal share of the input, the last round taking the rest. */
function share(c: CrashCase, k: number): [number, number] {
  const per = Math.floor(c.size / c.kills / 200) * 200
  return [k * per, k === c.kills - 1 ? c.size : (k + 1) * per]
}

/** Round `k`'s input: a new file for file sources, a higher target for the code source. */
async function addInput(dir: string, c: CrashCase, k: number): Promise<void> {
  const [from, to] = share(c, k)
  const range = Array.from({ length: to - from }, (_, i) => from + i + 1)
  if (c.source === 'ndjson') {
    const lines = range.map((id) => JSON.stringify({ id, text: `event ${id} ${'x'.repeat(80)}` }))
    await writeFile(join(dir, `events-${k}.ndjson`), `${lines.join('\n')}\n`)
  } else if (c.source === 'csv') {
    const lines = range.map((id) => `${id},row ${id},"quoted, ${id % 7}"`)
    await writeFile(join(dir, `rows-${k}.csv`), `id,name,note\n${lines.join('\n')}\n`)
  } else if (c.source === 'code') {
    await writeFile(join(dir, 'target.json'), String(to))
  }
}

async function writeProject(dir: string, c: CrashCase, simUrl: string | undefined, prefix: string) {
  const stream =
    c.stream === 'nats'
      ? `{ kind: 'nats', url: '${c.natsUrl}', prefix: '${prefix}', ackWait: '5s' }`
      : `{ kind: 'embedded' }`
  const source = {
    ndjson: `{ kind: 'file', path: 'events-*.ndjson', resource: 'events', batchSize: 500 }`,
    csv: `{ kind: 'file', path: 'rows-*.csv', resource: 'rows', batchSize: 500 }`,
    // Batches of 200, a cursor only every third batch: a restart pulls some batches again.
    code: `{
      kind: 'code',
      async *pull({ cursor, signal }) {
        const target = Number(readFileSync(new URL('./target.json', import.meta.url), 'utf8'))
        for (let b = cursor ?? 0; b * 200 < target; b++) {
          if (signal.aborted) return
          await new Promise((r) => setTimeout(r, 15))
          const records = Array.from({ length: Math.min(200, target - b * 200) }, (_, i) => ({ resource: 'events', data: { id: b * 200 + i + 1 } }))
          yield { records, ...(b % 3 === 2 ? { cursor: b + 1 } : {}) }
        }
      },
    }`,
    rest: `{ preset: 'x.recent_search', baseUrl: '${simUrl}', auth: { bearer: 'crash-test' }, params: { query: ['#data'] }, retry: { baseDelay: '50ms', maxDelay: '200ms' } }`,
  }[c.source]
  await writeFile(
    join(dir, 'weir.config.ts'),
    `import { readFileSync } from 'node:fs'
export default {
  lake: './lake',
  stream: ${stream},
  sources: { src: ${source} },\n  tables: { '${TABLE[c.source].replace('_', '.')}': { format: '${c.iceberg ? 'iceberg' : 'parquet'}' } },
  landing: { maxRecords: 2000, maxAge: '500ms' },
  run: { retryDelay: '200ms', grace: '2s', jobs: { src: { schedule: 'rate(2 seconds)' } } },
}
`,
  )
}

/** The ids an Iceberg reader (icebird) reads from the trusted table's current snapshot. */
async function icebergIds(dir: string, table: string): Promise<string[]> {
  const { icebergRead } = await import('icebird')
  const { pathToFileURL } = await import('node:url')
  const { fetchLocalFiles } = await import('../helpers/file-fetch.js')
  const restore = fetchLocalFiles()
  try {
    const location = join(dir, 'lake', 'trusted', ...table.split(/_(.*)/s).slice(0, 2))
    const rows = (await icebergRead({ tableUrl: pathToFileURL(location).href })) as { id: unknown }[]
    return rows.map((r) => String(r.id))
  } catch (err) {
    return [`unreadable: ${(err as Error).message}`]
  } finally {
    restore()
  }
}

const idsUpTo = (n: number) => new Set(Array.from({ length: n }, (_, i) => String(i + 1)))

/** The id of every line of every raw file of the table, read straight off the lake. */
async function rawIds(dir: string, source: SourceKind): Promise<string[]> {
  const resource = TABLE[source].slice('src_'.length)
  const root = join(dir, 'lake', 'raw', 'src')
  const out: string[] = []
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => [])
  for (const e of entries) {
    if (!e.isFile() || e.name.startsWith('_') || !e.name.endsWith('.ndjson')) continue
    const path = join(e.parentPath, e.name)
    if (!path.includes(`/${resource}/`)) continue
    for (const line of (await readFile(path, 'utf8')).split('\n')) {
      if (line) out.push(String((JSON.parse(line) as { id: unknown }).id))
    }
  }
  return out
}

/** Every tweet the simulator holds for the query, fetched page by page with plain fetch (not Weir). */
async function oracle(base: string): Promise<Set<string>> {
  const out = new Set<string>()
  let token: string | undefined
  for (;;) {
    const u = new URL('/2/tweets/search/recent', base)
    u.searchParams.set('query', '#data')
    u.searchParams.set('max_results', '100')
    if (token) u.searchParams.set('next_token', token)
    const res = await fetch(u, { headers: { authorization: 'Bearer oracle' } })
    if (!res.ok) {
      // The simulator's injected 429s and 500s: ask again.
      await new Promise((r) => setTimeout(r, 50))
      continue
    }
    const body = (await res.json()) as { data?: { id: string }[]; meta?: { next_token?: string } }
    for (const t of body.data ?? []) out.add(t.id)
    token = body.meta?.next_token
    if (!token) return out
  }
}
