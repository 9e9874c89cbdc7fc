import type { Readable } from 'node:stream'
import type { LakeLocation } from './uri.js'

/** What a listing or `head` tells about one object. */
export interface ObjectInfo {
  /** Key relative to the lake root, `/`-separated (e.g. `raw/x/json/tweets/2026/11/22/0-99.ndjson`). */
  readonly key: string
  readonly size: number
  readonly lastModified: Date
  /** A version tag: S3's ETag, or size+mtime locally. Changes when the content changes. */
  readonly etag: string
}

/** Optional abilities an adapter may have; callers check these, not the adapter's kind. */
export interface StoreCapabilities {
  /** Objects are plain files on this machine: `localPath(key)` gives their path (DuckDB reads them in place). */
  readonly localFiles: boolean
}

/**
 * The object-store port: the lake's files, wherever they live. Keys are relative to the lake root.
 * Writes are atomic: a reader sees the whole object or none of it.
 */
export interface ObjectStore {
  /** The lake URI this store was opened on, for messages (`./lake`, `s3://bucket/prefix`). */
  readonly uri: string
  readonly capabilities: StoreCapabilities
  /** Writes an object atomically (temporary file + rename locally; one PUT on S3). */
  put(key: string, body: Uint8Array | string): Promise<void>
  /** Uploads a local file atomically, streaming it rather than reading it into memory. */
  putFile(key: string, path: string): Promise<void>
  /** Streams an object's content; fails with code `STORAGE_NOT_FOUND` when it does not exist. */
  get(key: string): Promise<Readable>
  /** Reads a whole (small) object; undefined when it does not exist. */
  getBytes(key: string): Promise<Uint8Array | undefined>
  /** Every object whose key starts with `prefix`, in key order, page by page. */
  list(prefix: string): AsyncIterable<ObjectInfo>
  /**
   * Writes an object only if its version tag is still `etag` (`null`: only if it does not exist);
   * false when another writer got there first. What leases are made of.
   */
  putIfMatch(key: string, body: string, etag: string | null): Promise<boolean>
  /** Removes an object; removing one that does not exist is not an error. */
  delete(key: string): Promise<void>
  /** An object's info, or undefined when it does not exist. */
  head(key: string): Promise<ObjectInfo | undefined>
  /** The absolute path of a key on this machine, when `capabilities.localFiles`. */
  localPath?(key: string): string
  close(): Promise<void>
}

/** Reads and parses a JSON object from the store; undefined when it does not exist. */
export async function getJson<T>(store: ObjectStore, key: string): Promise<T | undefined> {
  const bytes = await store.getBytes(key)
  return bytes === undefined ? undefined : (JSON.parse(Buffer.from(bytes).toString('utf8')) as T)
}

/** Writes a JSON document atomically, pretty-printed so people can read the lake's state. */
export async function putJson(store: ObjectStore, key: string, value: unknown): Promise<void> {
  await store.put(key, `${JSON.stringify(value, null, 2)}\n`)
}

/** Joins key parts with `/`, dropping empty parts and duplicate slashes. */
export function joinKey(...parts: string[]): string {
  return parts
    .flatMap((p) => p.split('/'))
    .filter((p) => p.length > 0)
    .join('/')
}

/** What opening a store needs: where the lake is, parsed, and the URI as the user wrote it. */
export interface StoreContext {
  readonly location: LakeLocation
  readonly uri: string
}
