import { readdir, readFile, stat } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { getTable, listTables, tableFiles, ZONES, type Zone } from '../catalog/catalog.js'
import { tableDdl } from '../catalog/ddl.js'
import { attachLake } from '../catalog/views.js'
import { WeirError } from '../core/errors.js'
import type { Engine } from '../engine/engine.js'
import { defaultCacheDir } from '../engine/localize.js'
import { createSandbox, type Sandbox } from '../engine/sandbox.js'
import { createRunHistory } from '../scheduler/history.js'
import type { UiBackend } from '../serve/api/ui.js'
import type { Pipeline } from './pipeline.js'
import { type FreshnessCache, freshness, lineage } from './ui-lineage.js'

const STAGES = ['ingest', 'land', 'refine', 'models', 'warehouse', 'alerts', 'serve'] as const
/** Jobs that are stages, not sources (a source's runs are under its own name). */
const JOBS = new Set([
  'land',
  'refine',
  'models',
  'warehouse',
  'alerts',
  'maintain',
  'serve',
  'history',
  'scheduler',
  'query',
])
const EXAMPLES = fileURLToPath(new URL('../../examples/dashboards/', import.meta.url))
// dist/web from both src/ (tests) and dist/ (the package): the build puts the front end there.
const WEB = fileURLToPath(new URL('../../dist/web/', import.meta.url))

/**
 * The dashboard's backend: the pipeline's state (sources, consumer groups, runs, errors), the lake's
 * catalog, and queries through a sandbox (read-only, limited to the lake's folders) made again
 * every few seconds so it follows the files refine swaps.
 */
export function createUiBackend(p: Pipeline, projectDir: string): UiBackend & { close(): Promise<void> } {
  let sandbox: { box: Promise<Sandbox>; at: number } | undefined
  const sandboxNow = async () => {
    if (!sandbox || Date.now() - sandbox.at > 5_000) {
      const old = sandbox
      const setup: string[] = []
      const recorder = { run: async (sql: string) => void setup.push(sql) } as unknown as Engine
      await attachLake(recorder, p.store)
      const dirs = [p.store.localPath ? resolve(p.store.localPath('')) : defaultCacheDir(p.store.uri)]
      sandbox = { box: createSandbox({ allowedDirectories: dirs, setup }), at: Date.now() }
      if (old) void old.box.then((b) => b.close()).catch(() => undefined)
    }
    return sandbox.box
  }
  const history = createRunHistory(p.state)
  const servingSince = new Date().toISOString()
  const counted: FreshnessCache = new Map()
  const dashboardsDir = async () => {
    const own = resolve(projectDir, p.config.serve.dashboards)
    return (await stat(own).catch(() => undefined))?.isDirectory() ? own : EXAMPLES
  }

  return {
    staticDir: WEB,
    async overview() {
      const stream = await p.stream()
      const [groups, runs, tables] = await Promise.all([
        stream.groups(),
        history.list({ limit: 2000 }),
        listTables(p.store),
      ])
      const hourAgo = Date.now() - 3_600_000
      const latest = new Map<string, (typeof runs)[number]>()
      for (const r of runs) if (!latest.has(r.job)) latest.set(r.job, r)
      const lastHour = (job: string) => {
        const recent = runs.filter((r) => r.job === job && Date.parse(r.start) >= hourAgo)
        return {
          runs: recent.length,
          records: recent.reduce((n, r) => n + r.records, 0),
          files: recent.reduce((n, r) => n + r.files, 0),
        }
      }
      const errors: { key: string; at: string; size: number }[] = []
      for await (const o of p.store.list('_errors/'))
        if (o.lastModified.getTime() >= hourAgo)
          errors.push({ key: o.key, at: o.lastModified.toISOString(), size: o.size })
      const sources = await Promise.all(
        Object.entries(p.config.sources).map(async ([name, s]) => {
          const saved = await p.state.get<{ run?: string; updatedAt?: string }>(`sources/${name}`)
          const last = latest.get(name)
          return {
            name,
            kind: (s as { kind?: string; preset?: string }).preset ?? (s as { kind?: string }).kind ?? 'rest',
            lastRun: last?.start ?? saved?.updatedAt ?? null,
            outcome: last?.outcome ?? (saved ? 'succeeded' : null),
            lastHour: lastHour(name),
          }
        }),
      )
      const stages = STAGES.map((stage) => {
        if (stage === 'serve')
          // This page is served: the stage runs, since this process started.
          return { stage, lastRun: servingSince, outcome: 'running', error: null, lastHour: null }
        const job = stage === 'ingest' ? undefined : stage
        // A source's runs are recorded under its name, whichever config ran them.
        const last = job ? latest.get(job) : runs.find((r) => !JOBS.has(r.job))
        return {
          stage,
          lastRun: last?.start ?? null,
          outcome: last?.outcome ?? null,
          error: last?.error ?? null,
          lastHour: job ? lastHour(job) : null,
        }
      })
      return {
        lake: p.store.uri,
        stream: p.config.stream.kind,
        generatedAt: new Date().toISOString(),
        stages,
        sources,
        groups,
        tables: Object.fromEntries(ZONES.map((z) => [z, tables.filter((t) => t.zone === z).length])),
        errors: { lastHour: errors.length, recent: errors.slice(-10) },
      }
    },
    async tables() {
      const out = []
      for (const t of await listTables(p.store)) {
        let files = 0
        let bytes = 0
        const listed = await tableFiles(p.store, t)
        const live = listed ? new Set(listed) : undefined
        if (t.format !== 'view') {
          for await (const o of p.store.list(t.location)) {
            if (live ? !live.has(o.key) : o.key.split('/').pop()!.startsWith('_')) continue
            files++
            bytes += o.size
          }
        }
        out.push({
          zone: t.zone,
          name: t.name,
          format: t.format,
          columns: t.columns.length,
          files,
          bytes,
          partitioning: t.partitioning,
          updatedAt: t.updatedAt,
        })
      }
      return { tables: out }
    },
    async table(zone, name) {
      if (!(ZONES as readonly string[]).includes(zone))
        throw new WeirError(`no zone ${zone}`, { code: 'UI_NOT_FOUND', stage: 'query' })
      const t = await getTable(p.store, zone as Zone, name)
      if (!t) throw new WeirError(`no table ${zone}.${name}`, { code: 'UI_NOT_FOUND', stage: 'query' })
      const partitions = new Map<string, { files: number; bytes: number }>()
      if (t.format !== 'view') {
        const listed = await tableFiles(p.store, t)
        const live = listed ? new Set(listed) : undefined
        for await (const o of p.store.list(t.location)) {
          if (live && !live.has(o.key)) continue
          const part = /\/(dt=[^/]+|\d{4}\/\d{2}\/\d{2})\//.exec(o.key)?.[1] ?? '(none)'
          const s = partitions.get(part) ?? { files: 0, bytes: 0 }
          s.files++
          s.bytes += o.size
          partitions.set(part, s)
        }
      }
      const sample = await (await sandboxNow())
        .query(`select * from ${zone}."${name.replaceAll('"', '""')}" limit 20`)
        .catch((err: Error) => ({ error: err.message }))
      const ddl: Record<string, string> = {}
      for (const d of ['duckdb', 'athena'] as const) {
        try {
          ddl[d] = tableDdl(t, d, 's3://your-bucket/lake')
        } catch {}
      }
      return {
        table: t,
        partitions: [...partitions]
          .map(([partition, s]) => ({ partition, ...s }))
          .sort((a, b) => a.partition.localeCompare(b.partition)),
        sample,
        ddl,
      }
    },
    async query(sql, signal) {
      return (await sandboxNow()).query(sql, signal)
    },
    async runs() {
      return { runs: await history.list({ limit: 500 }) }
    },
    async alerts() {
      const r = await (await sandboxNow())
        .query('select * from weir.alerts order by "at" desc limit 500')
        .catch(() => ({ columns: [], rows: [] }))
      return { alerts: r.rows }
    },
    async dashboards() {
      const dir = await dashboardsDir()
      const names = (await readdir(dir).catch(() => [] as string[]))
        .filter((f) => f.endsWith('.md'))
        .map((f) => basename(f, '.md'))
        .sort()
      if (dir !== EXAMPLES) return names
      // The built-in examples only where the lake has every table they read.
      const have = new Set((await listTables(p.store)).map((t) => `${t.zone}.${t.name}`))
      const usable = await Promise.all(
        names.map(async (n) => {
          const md = await readFile(resolve(dir, `${n}.md`), 'utf8')
          return [...md.matchAll(/\b(raw|trusted|refined)\.(\w+)/g)].every((m) => have.has(`${m[1]}.${m[2]}`))
        }),
      )
      return names.filter((_, i) => usable[i])
    },
    async dashboard(name) {
      if (!/^[A-Za-z0-9_-]+$/.test(name))
        throw new WeirError(`no dashboard ${name}`, { code: 'UI_NOT_FOUND', stage: 'query' })
      const markdown = await readFile(resolve(await dashboardsDir(), `${name}.md`), 'utf8').catch(() => {
        throw new WeirError(`no dashboard ${name}`, { code: 'UI_NOT_FOUND', stage: 'query' })
      })
      const box = await sandboxNow()
      const results: Record<string, unknown> = {}
      for (const m of markdown.matchAll(/```sql\s+([A-Za-z0-9_]+)\s*\n([\s\S]*?)```/g)) {
        results[m[1]!] = await box.query(m[2]!).catch((err: Error) => ({ error: err.message }))
      }
      return { name, markdown, results, refreshedAt: new Date().toISOString() }
    },
    lineage: () => lineage(p),
    async freshness() {
      const box = await sandboxNow()
      return freshness(p, box, counted, sandbox?.at ?? 0)
    },
    async latestRun() {
      const [r] = await history.list({ limit: 1 })
      return r ? { id: r.id, job: r.job, outcome: r.outcome } : undefined
    },
    async close() {
      if (sandbox) await (await sandbox.box).close()
    },
  }
}
