import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LoadedConfig } from '../config/load.js'
import type { WeirConfig } from '../config/schema.js'
import type { OnProgress } from '../core/progress.js'
import { createEngine, type Engine } from '../engine/engine.js'
import { createLeases, type Leases } from '../state/lease.js'
import { createStateStore, type StateStore } from '../state/state.js'
import { openStore } from '../storage/registry.js'
import type { ObjectStore } from '../storage/storage.js'
import { openStream, type StreamConfig } from '../stream/registry.js'
import type { Stream } from '../stream/stream.js'
import type { OpenOptions } from './pipeline.js'

/**
 * What a project's stages share: the lake's store, state and leases, opened at once; the stream, the
 * SQL engine, a staging folder and the API simulator, opened on first use and closed with the rest.
 */
export interface Resources {
  readonly config: WeirConfig
  /** The folder the config's relative paths (models, dashboards) resolve against. */
  readonly dir: string
  readonly store: ObjectStore
  readonly state: StateStore
  /** This process's leases in the lake (single-writer jobs across processes). */
  readonly leases: Leases
  stream(): Promise<Stream>
  engine(): Promise<Engine>
  /** A temporary folder of this process for staged files (refine batches, model builds, loads). */
  staging(): Promise<string>
  /** The config with the sources whose baseUrl or credential is "simulator" pointed at Weir's API simulator. */
  simulated(): Promise<WeirConfig>
  /** Where stages report how far they are (nowhere, unless the CLI draws it). */
  readonly progress: OnProgress
  close(): Promise<void>
}

export async function openResources(loaded: LoadedConfig, options: OpenOptions = {}): Promise<Resources> {
  const { config, dir } = loaded
  const store = await openStore(config.lake, config.storage, dir)
  const state = createStateStore(store)
  let stream: Promise<Stream> | undefined
  let engine: Promise<Engine> | undefined
  let staging: Promise<string> | undefined
  let simulator: Promise<{ url: string; close(): Promise<void> }> | undefined
  const streamConfig: StreamConfig = options.streamDir
    ? { kind: 'embedded', dir: options.streamDir, segmentBytes: '128MB', partitions: 1 }
    : config.stream
  const duckdbTemp = join(tmpdir(), `weir-duckdb-${process.pid}-${Date.now()}`)
  return {
    config,
    dir,
    store,
    state,
    leases: createLeases(store),
    progress: options.onProgress ?? (() => {}),
    stream() {
      stream ??= openStream(streamConfig, { lake: config.lake, base: dir, state })
      return stream
    },
    engine() {
      engine ??= createEngine({
        // Where DuckDB spills what does not fit its memory limit (refine stages each batch in a temp table).
        tempDirectory: duckdbTemp,
        ...(config.engine.threads ? { threads: config.engine.threads } : {}),
        ...(config.engine.memoryLimit ? { memoryLimit: config.engine.memoryLimit } : {}),
      })
      return engine
    },
    staging() {
      staging ??= mkdtemp(join(tmpdir(), 'weir-staging-'))
      return staging
    },
    /**
     * Sources whose baseUrl or credential is "simulator" (`auth: { bearer: '${X_BEARER_TOKEN:-simulator}' }`
     * until a real credential is set) are served by Weir's API simulator, started in this process
     * on first use.
     */
    async simulated() {
      const simulatedSources = Object.entries(config.sources).filter(([, s]) => isSimulated(s))
      if (!simulatedSources.length) return config
      if (!simulator)
        options.onNote?.(
          `${simulatedSources.map(([n]) => n).join(', ')}: no credential set (it says "simulator"), so ${simulatedSources.length > 1 ? 'these sources get' : 'this source gets'} made-up data from Weir's built-in API simulator, not the real API (set the credentials the config reads, in .env or the environment)`,
        )
      simulator ??= import('../sources/simulator/simulator.js').then((m) =>
        m.startSimulator({ historyDays: 3 }),
      )
      const { url } = await simulator
      return {
        ...config,
        sources: {
          ...config.sources,
          ...Object.fromEntries(simulatedSources.map(([n, s]) => [n, { ...s, baseUrl: url }])),
        },
      }
    },
    async close() {
      if (simulator) await (await simulator).close()
      if (stream) await (await stream).close()
      if (engine) {
        await (await engine).close()
        await rm(duckdbTemp, { recursive: true, force: true })
      }
      if (staging) await rm(await staging, { recursive: true, force: true })
      await store.close()
    },
  }
}

/** A source meant for the simulator: its baseUrl, or its credential, says "simulator". */
function isSimulated(source: unknown): boolean {
  const s = source as {
    baseUrl?: string
    auth?: { bearer?: string; apiKey?: string; basic?: { password?: string } }
  }
  return (
    s.baseUrl === 'simulator' ||
    s.auth?.bearer === 'simulator' ||
    s.auth?.apiKey === 'simulator' ||
    s.auth?.basic?.password === 'simulator'
  )
}
