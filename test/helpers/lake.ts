import { onTestFinished } from 'vitest'
import { createLocalStore } from '../../src/storage/local/local-store.js'
import type { ObjectStore } from '../../src/storage/storage.js'
import { createEmbeddedStream } from '../../src/stream/embedded/embedded-stream.js'
import type { Stream } from '../../src/stream/stream.js'
import { tempDir } from './services.js'

/** A fresh local lake and embedded stream in temp directories. */
export async function scratchLake(): Promise<{
  root: string
  store: ObjectStore
  stream: Stream
  streamDir: string
}> {
  const root = await tempDir('weir-lake-')
  const streamDir = await tempDir('weir-stream-')
  const stream = await createEmbeddedStream(streamDir)
  onTestFinished(() => stream.close())
  return { root, store: createLocalStore(root), stream, streamDir }
}

export async function keys(store: ObjectStore, prefix: string): Promise<string[]> {
  const out: string[] = []
  for await (const o of store.list(prefix)) out.push(o.key)
  return out
}

export async function text(store: ObjectStore, key: string): Promise<string> {
  return Buffer.from((await store.getBytes(key)) ?? new Uint8Array()).toString('utf8')
}

export const json = (v: unknown, resource: string) => ({
  value: Buffer.from(JSON.stringify(v)),
  headers: { resource },
})

/** A source state that keeps nothing, for pulling a source directly in a test. */
export const noState = { get: async () => undefined, put: async () => {} }

/** State in memory (a source's, or the run history's), to look at what was saved. */
export function memoryState() {
  const docs = new Map<string, unknown>()
  return {
    docs,
    get: async <T>(key: string) => docs.get(key) as T | undefined,
    put: async (key: string, value: unknown) => {
      docs.set(key, value)
    },
    list: async (folder: string) => [...docs.keys()].filter((k) => k.startsWith(`${folder}/`)),
  }
}
