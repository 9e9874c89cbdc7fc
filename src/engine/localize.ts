import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, rename, stat, utimes } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { ObjectInfo, ObjectStore } from '../storage/storage.js'

/**
 * Local paths DuckDB can read for these objects. A local lake is read in place; a remote one is
 * mirrored into a cache directory first (DuckDB's httpfs extension would have to be downloaded at
 * run time, which Weir never does). Objects already cached with the same size and time are reused.
 */
export async function localize(store: ObjectStore, objects: readonly ObjectInfo[], cacheDir?: string) {
  if (store.capabilities.localFiles && store.localPath) return objects.map((o) => store.localPath!(o.key))
  const root = cacheDir ?? defaultCacheDir(store.uri)
  // Latency dominates S3 reads; eight in flight hide it without opening a socket per file.
  const queue = [...objects]
  const work = async () => {
    for (let o = queue.shift(); o; o = queue.shift()) {
      const path = join(root, ...o.key.split('/'))
      const cached = await stat(path).catch(() => undefined)
      // utimes stores seconds as a float, so compare times to the millisecond, not exactly.
      if (!cached || cached.size !== o.size || Math.abs(cached.mtimeMs - o.lastModified.getTime()) >= 1) {
        await mkdir(dirname(path), { recursive: true })
        const tmp = `${path}.part`
        await pipeline(await store.get(o.key), createWriteStream(tmp))
        await utimes(tmp, o.lastModified, o.lastModified)
        await rename(tmp, path)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(8, objects.length) }, work))
  return objects.map((o) => join(root, ...o.key.split('/')))
}

/** One cache directory per remote lake, under the system temp directory. */
export function defaultCacheDir(uri: string): string {
  return join(tmpdir(), 'weir-cache', createHash('sha256').update(uri).digest('hex').slice(0, 16))
}
