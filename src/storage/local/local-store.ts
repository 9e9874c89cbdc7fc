import { randomBytes } from 'node:crypto'
import { createReadStream, type Dirent } from 'node:fs'
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { dirname, join, sep } from 'node:path'
import type { Readable } from 'node:stream'
import { WeirError } from '../../core/errors.js'
import { sleep } from '../../core/time.js'
import type { ObjectInfo, ObjectStore } from '../storage.js'

/** Temporary files carry this marker; listings skip them, so readers never see a half-written object. */
const TMP_MARK = '.weir-tmp-'
/**
 * Temporary files are written in one folder at the lake root, not beside their target: a crash
 * then leaves nothing half-written inside the zones, where Athena, Hive or a DuckDB glob would
 * see it. Leftovers older than an hour are removed when the store first writes.
 */
const TMP_DIR = '_tmp'
const TMP_STALE_MS = 3_600_000

/**
 * The default object store: a directory on this machine.
 * @example const store = createLocalStore('./lake')
 */
export function createLocalStore(root: string, uri = root): ObjectStore {
  const pathOf = (key: string) => join(root, ...key.split('/'))

  let swept: Promise<void> | undefined
  const sweep = async () => {
    const dir = join(root, TMP_DIR)
    await mkdir(dir, { recursive: true })
    for (const name of await readdir(dir)) {
      const path = join(dir, name)
      const info = await stat(path).catch(() => undefined)
      if (info && Date.now() - info.mtimeMs > TMP_STALE_MS) await rm(path, { force: true })
    }
  }

  /**
   * Folder fsyncs are shared: a rename is durable after any fsync of its folder that starts after
   * it, so writers into one folder join the next fsync that has not started yet (group commit).
   */
  const queued = new Map<string, Promise<void>>()
  const running = new Map<string, Promise<void>>()
  const syncFolder = (folder: string): Promise<void> => {
    const next = queued.get(folder)
    if (next) return next
    const p: Promise<void> = (running.get(folder) ?? Promise.resolve())
      .catch(() => {})
      .then(async () => {
        queued.delete(folder)
        running.set(folder, p)
        const dir = await open(folder, 'r')
        try {
          await dir.sync()
        } finally {
          await dir.close()
        }
      })
      .finally(() => {
        if (running.get(folder) === p) running.delete(folder)
      })
    queued.set(folder, p)
    return p
  }

  /** Folders known to exist: a lake writes many files into few folders. */
  const made = new Set<string>()

  /** `write` must leave the temporary file fsynced when it says so (`true`), or it is fsynced here. */
  async function atomically(key: string, write: (tmp: string) => Promise<boolean>): Promise<void> {
    const target = pathOf(key)
    swept ??= sweep().catch(() => {})
    await swept
    const tmp = join(root, TMP_DIR, `${TMP_MARK}${randomBytes(6).toString('hex')}`)
    const folder = dirname(target)
    if (!made.has(folder)) {
      await mkdir(folder, { recursive: true })
      made.add(folder)
    }
    try {
      // fsync before rename: otherwise a power cut can leave the new name pointing at empty data.
      if (!(await write(tmp))) {
        const fh = await open(tmp, 'r+')
        await fh.sync()
        await fh.close()
      }
      await rename(tmp, target).catch(async (err: unknown) => {
        // The folder was removed since it was made (by hand, or a test): make it again.
        if (!isEnoent(err)) throw err
        await mkdir(folder, { recursive: true })
        await rename(tmp, target)
      })
      // The rename is only durable once the directory entry is: fsync the folder too.
      await syncFolder(folder)
    } catch (err) {
      await rm(tmp, { force: true })
      throw storageError(uri, key, 'write', err)
    }
  }

  return {
    uri,
    capabilities: { localFiles: true },
    put: (key, body) =>
      atomically(key, async (tmp) => {
        const fh = await open(tmp, 'w')
        try {
          await fh.writeFile(body)
          await fh.datasync()
        } finally {
          await fh.close()
        }
        return true
      }),
    putFile: (key, path) => atomically(key, (tmp) => copyFile(path, tmp).then(() => false)),
    async get(key) {
      const info = await this.head(key)
      if (!info) throw notFound(uri, key)
      return createReadStream(pathOf(key)) as Readable
    },
    async getBytes(key) {
      try {
        return await readFile(pathOf(key))
      } catch (err) {
        if (isEnoent(err)) return undefined
        throw storageError(uri, key, 'read', err)
      }
    },
    list: (prefix) => listLocal(root, prefix),
    async putIfMatch(key, body, etag) {
      // The check and the write happen under a lock (a directory: mkdir is atomic), across processes.
      const lock = `${pathOf(key)}.lock`
      await mkdir(dirname(lock), { recursive: true })
      for (let i = 0; ; i++) {
        try {
          await mkdir(lock)
          break
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw storageError(uri, key, 'lock', err)
          // A lock older than 10 s belongs to a process that died holding it.
          const s = await stat(lock).catch(() => undefined)
          if (s && Date.now() - s.mtimeMs > 10_000) await rm(lock, { recursive: true, force: true })
          if (i > 2000) throw storageError(uri, key, 'lock', err)
          await sleep(5)
        }
      }
      try {
        const current = await this.head(key)
        if ((current?.etag ?? null) !== etag) return false
        await this.put(key, body)
        return true
      } finally {
        await rm(lock, { recursive: true, force: true })
      }
    },
    async delete(key) {
      await rm(pathOf(key), { force: true })
    },
    async head(key) {
      try {
        const s = await stat(pathOf(key))
        if (!s.isFile()) return undefined
        return { key, size: s.size, lastModified: s.mtime, etag: `${s.size}-${s.mtimeMs}` }
      } catch (err) {
        if (isEnoent(err)) return undefined
        throw storageError(uri, key, 'stat', err)
      }
    },
    localPath: pathOf,
    async close() {},
  }
}

/**
 * Walks only the directories that can hold keys with this prefix, yielding in the order S3 lists
 * (byte order of the whole key): sorting each directory with folders compared as `name/` gives
 * that order without holding the whole listing in memory.
 */
async function* listLocal(root: string, prefix: string, dirKey = ''): AsyncGenerator<ObjectInfo> {
  let entries: Dirent[]
  try {
    entries = await readdir(join(root, ...dirKey.split('/').filter(Boolean)), { withFileTypes: true })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return
    throw err
  }
  const sorted = entries
    .filter((e) => !e.name.startsWith(TMP_MARK) && (e.isDirectory() || e.isFile()))
    .map((e) => ({ e, sortKey: e.isDirectory() ? `${e.name}/` : e.name }))
    .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0))
  for (const { e } of sorted) {
    const key = dirKey ? `${dirKey}/${e.name}` : e.name
    if (e.isDirectory()) {
      if (`${key}/`.startsWith(prefix) || prefix.startsWith(`${key}/`)) yield* listLocal(root, prefix, key)
    } else if (key.startsWith(prefix)) {
      const s = await stat(join(root, ...key.split('/')))
      yield { key, size: s.size, lastModified: s.mtime, etag: `${s.size}-${s.mtimeMs}` }
    }
  }
}

function isEnoent(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT'
}

function notFound(uri: string, key: string): WeirError {
  return new WeirError(`${uri}: ${key} not found`, { code: 'STORAGE_NOT_FOUND', stage: 'storage' })
}

function storageError(uri: string, key: string, op: string, err: unknown): WeirError {
  const code = (err as NodeJS.ErrnoException)?.code
  const hint =
    code === 'ENOSPC'
      ? ' (disk full)'
      : code === 'EROFS'
        ? ' (read-only file system)'
        : code === 'EACCES'
          ? ' (permission denied)'
          : ''
  return new WeirError(`${uri}${sep}${key}: cannot ${op}${hint}: ${(err as Error).message}`, {
    code: 'STORAGE_IO',
    stage: 'storage',
    // A full, failing or read-only disk may be freed, replaced or remounted: the same write may pass later.
    retryable: ['EMFILE', 'EAGAIN', 'EBUSY', 'ENOSPC', 'EIO', 'EROFS', 'EDQUOT'].includes(code ?? ''),
    cause: err,
  })
}
