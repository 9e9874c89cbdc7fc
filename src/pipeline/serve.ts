import { join } from 'node:path'
import { getTable } from '../catalog/catalog.js'
import { errorMessage, WeirError } from '../core/errors.js'
import { sleep } from '../core/time.js'
import { sqlIdent } from '../engine/engine.js'
import { createApi } from '../serve/api/app.js'
import { syncModelTable } from '../serve/model-tables.js'
import { serveSink } from '../serve/sink.js'
import { openServingStore, type ServingStoreConfig } from '../serve/stores/registry.js'
import type { ServingStore } from '../serve/stores/store.js'
import type { Pipeline } from './pipeline.js'
import { createUiBackend } from './ui.js'

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])

export interface Serving {
  readonly url: string
  readonly store: ServingStore
  /** Resolves when the sink has read what the stream holds (without follow) or stops. */
  readonly sink: Promise<{ records: number; upserts: number }>
  close(): Promise<void>
}

/** The serving store of the config (the embedded one lives in a local lake's `_serving/`). */
export async function servingStore(p: Pipeline): Promise<ServingStore> {
  const s = p.config.serve.store
  let cfg: ServingStoreConfig
  if (s.kind === 'embedded') {
    const path =
      s.path ?? (p.store.localPath ? join(p.store.localPath('_serving'), 'serving.duckdb') : undefined)
    if (!path) {
      throw new WeirError(
        `serve.store: the lake ${p.store.uri} is not local; set serve.store.path for the embedded store, or use postgres or dynamodb`,
        {
          code: 'SERVE_STORE',
          stage: 'config',
        },
      )
    }
    cfg = { kind: 'embedded', path }
  } else cfg = s
  return openServingStore(cfg)
}

/**
 * `weir serve`: the serving sink (a consumer group filling the served tables) and the read-only HTTP
 * API on one port. Refuses to listen beyond loopback without API keys.
 */
export async function startServing(
  p: Pipeline,
  options: {
    readonly port: number
    readonly host: string
    readonly sink?: boolean
    readonly follow?: boolean
    /** Serve the dashboard (default: serve.ui). */
    readonly ui?: boolean
    /** Where the config is (dashboards/ resolve against it). */
    readonly projectDir?: string
    readonly log?: Parameters<typeof createApi>[0]['log']
  },
): Promise<Serving> {
  if (!LOOPBACK.has(options.host) && !p.config.serve.keys.length) {
    throw new WeirError(
      `serve: listening on ${options.host} needs API keys (serve.keys); without them, listen on 127.0.0.1`,
      {
        code: 'SERVE_NO_KEYS',
        stage: 'config',
      },
    )
  }
  const store = await servingStore(p)
  const stop = new AbortController()
  const sink =
    options.sink === false
      ? Promise.resolve({ records: 0, upserts: 0 })
      : serveSink(await p.stream(), store, p.config.serve, {
          follow: options.follow ?? true,
          signal: stop.signal,
        })
  // Whoever holds the Serving decides what a failed sink means; it never goes unhandled.
  void sink.catch(() => undefined)
  // Tables filled from models: synced now (so the API answers with them at once), then after each build.
  const models = (await followModels(p, store, options.follow ?? true, stop.signal)).following
  const ui =
    p.config.serve.ui && options.ui !== false ? createUiBackend(p, options.projectDir ?? p.dir) : undefined
  const app = createApi({
    store,
    config: p.config.serve,
    ...(ui ? { ui } : {}),
    ...(options.log ? { log: options.log } : {}),
  })
  const { serve } = await import('@hono/node-server')
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: options.port, hostname: options.host }, () => resolve(s))
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  return {
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    store,
    sink,
    async close() {
      stop.abort()
      await sink.catch(() => undefined)
      await models
      const closed = new Promise<void>((r) => server.close(() => r()))
      // Open dashboards hold an event stream each: ended here, or close would wait for them.
      ;(server as { closeAllConnections?: () => void }).closeAllConnections?.()
      await closed
      await ui?.close()
      await store.close()
    },
  }
}

const MODEL_POLL_MS = 5_000

/**
 * Keeps the tables served from refined models equal to the models: each is synced when its
 * catalog entry changes (a build, in this process or another), checked every few seconds. The first
 * round is awaited; the returned promise is the following, which ends when `signal` aborts. A sync
 * that fails says so on stderr in one line and is tried again at the next check.
 */
async function followModels(
  p: Pipeline,
  store: ServingStore,
  follow: boolean,
  signal: AbortSignal,
): Promise<{ following: Promise<void> }> {
  const tables = Object.entries(p.config.serve.tables).filter(([, t]) => t.model !== undefined)
  if (!tables.length) return { following: Promise.resolve() }
  const seen = new Map<string, string>()
  const round = async () => {
    for (const [name, t] of tables) {
      try {
        const entry = await getTable(p.store, 'refined', t.model!)
        const version = entry ? `${entry.model?.seq ?? ''}:${entry.updatedAt}` : undefined
        if (!version || seen.get(name) === version) continue
        const { rows } = await p.query(`select * from refined.${sqlIdent(t.model!)}`)
        await syncModelTable(store, { name, indexes: t.indexes }, t, rows)
        seen.set(name, version)
      } catch (err) {
        process.stderr.write(
          `weir serve: table ${name} from model ${t.model}: ${errorMessage(err)}; trying again\n`,
        )
      }
    }
  }
  await round()
  if (!follow) return { following: Promise.resolve() }
  // In an object: an async function returning a promise would wait for it.
  const following = (async () => {
    while (!signal.aborted) {
      await sleep(MODEL_POLL_MS, signal)
      if (!signal.aborted) await round()
    }
  })()
  return { following }
}
