import { getJson, joinKey, type ObjectStore, putJson } from '../storage/storage.js'

/**
 * Progress that must survive restarts (source cursors, refine bookmarks, run records), stored as
 * JSON documents under `_state/` in the lake, so a lake on S3 carries its own progress with it.
 *
 * @example
 * const state = createStateStore(store)
 * await state.put('sources/x', { cursor: 'abc' })
 */
export interface StateStore {
  get<T>(name: string): Promise<T | undefined>
  /** Atomic: a crash leaves the previous document or the new one. */
  put(name: string, value: unknown): Promise<void>
  /** Names of the documents under a folder, e.g. `list('stream/kinesis')`. */
  list(folder: string): Promise<string[]>
}

export function createStateStore(store: ObjectStore): StateStore {
  const key = (name: string) => joinKey('_state', `${name}.json`)
  return {
    get: (name) => getJson(store, key(name)),
    put: (name, value) => putJson(store, key(name), value),
    async list(folder) {
      const prefix = `${joinKey('_state', folder)}/`
      const names: string[] = []
      for await (const o of store.list(prefix)) {
        if (o.key.endsWith('.json')) names.push(o.key.slice('_state/'.length, -'.json'.length))
      }
      return names
    },
  }
}
