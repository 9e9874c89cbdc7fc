import { open, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { WeirError } from '../../core/errors.js'
import { describeProcess, isGone, type ProcessIdentity, thisProcess } from '../../core/process-identity.js'
import { sleep } from '../../core/time.js'

const LOCK = '_writer.json'

/**
 * The embedded stream's single writer: the first process to publish holds `<dir>/_writer.json`
 * (host, pid, start) until it closes the stream. Two writers would each append at the end they
 * know and overwrite each other's records; a process that died holding it (kill -9) is recognised
 * on this host and replaced at once.
 */
export function writerLock(dir: string) {
  const path = join(dir, LOCK)
  const me = thisProcess()
  let held: Promise<void> | undefined
  const take = async (): Promise<void> => {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fh = await open(path, 'wx')
        await fh.writeFile(JSON.stringify(me))
        await fh.sync()
        await fh.close()
        return
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(dir, err)
      }
      const owner = await readOwner(path)
      if (owner && !isGone(owner) && !same(owner, me)) {
        throw new WeirError(
          `stream ${dir}: another process writes to this embedded stream (${describeProcess(owner)}); stop it first, or use the NATS stream to run several processes (if that process is gone, delete ${path})`,
          { code: 'STREAM_LOCKED', stage: 'stream' },
        )
      }
      // An empty lock is a writer between creating and filling it, or one that crashed then.
      if (!owner) await sleep(200)
      // Gone (or unreadable: a crash while writing the lock): take it over, unless someone just did.
      const again = await readOwner(path)
      if (JSON.stringify(again) === JSON.stringify(owner)) await rm(path, { force: true })
    }
    throw new WeirError(`stream ${dir}: could not take the writer's lock ${path}; try again`, {
      code: 'STREAM_LOCKED',
      stage: 'stream',
      retryable: true,
    })
  }
  return {
    /** Takes the lock once; later calls share the first. */
    acquire(): Promise<void> {
      held ??= take().catch((err: unknown) => {
        held = undefined
        throw err
      })
      return held
    },
    async release(): Promise<void> {
      if (!held) return
      held = undefined
      const owner = await readOwner(path)
      if (owner && same(owner, me)) await rm(path, { force: true })
    },
  }
}

async function readOwner(path: string): Promise<ProcessIdentity | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as ProcessIdentity
  } catch {
    return undefined
  }
}

function same(a: ProcessIdentity, b: ProcessIdentity): boolean {
  return a.host === b.host && a.pid === b.pid && a.started === b.started
}

function ioError(dir: string, err: unknown): WeirError {
  return new WeirError(`stream ${dir}: cannot take the writer's lock: ${(err as Error).message}`, {
    code: 'STREAM_IO',
    stage: 'stream',
    retryable: true,
    cause: err,
  })
}
