import { execFile } from 'node:child_process'
import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { servicesRequired, tempDir } from './services.js'

const run = promisify(execFile)

export interface SmallDisk {
  readonly dir: string
  /** Fills the disk to the last byte with a ballast file. */
  fill(): Promise<void>
  /** Removes the ballast. */
  free(): Promise<void>
  /** Makes the file system read-only (`true`) or writable again. */
  readOnly(on: boolean): Promise<void>
  unmount(): Promise<void>
}

/**
 * A real small file system (tmpfs) to fill or make read-only while Weir writes to it: the kernel's
 * own short writes and ENOSPC/EROFS, not an injected error. Needs root (mount); without it the test
 * is skipped with a message, except in CI (WEIR_REQUIRE_SERVICES=1), where that fails.
 */
export async function smallDisk(bytes: number): Promise<SmallDisk | undefined> {
  const dir = await tempDir('weir-disk-')
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir])
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    const why = `cannot mount a tmpfs (${(err as Error).message.split('\n')[0]})`
    if (servicesRequired) throw new Error(`${why}; CI runs as root`)
    console.warn(`skipping disk-full tests: ${why}`)
    return undefined
  }
  const ballast = join(dir, 'ballast')
  return {
    dir,
    async fill() {
      const fh = await open(ballast, 'a')
      const chunk = Buffer.alloc(64 * 1024, 1)
      try {
        for (let size = chunk.length; size >= 1; size = Math.floor(size / 2)) {
          for (;;) {
            try {
              await fh.write(chunk.subarray(0, size))
            } catch {
              break
            }
          }
        }
      } finally {
        await fh.close()
      }
    },
    async free() {
      await rm(ballast, { force: true })
    },
    async readOnly(on) {
      // Refused (busy) while a file on it is open for writing: a lake's writes are short, so try again.
      for (let i = 0; ; i++) {
        try {
          await run('mount', ['-o', `remount,${on ? 'ro' : 'rw'}`, dir])
          return
        } catch (err) {
          if (i >= 200) throw err
          await new Promise((r) => setTimeout(r, 25))
        }
      }
    },
    async unmount() {
      await run('umount', ['-l', dir]).catch(() => {})
      await rm(dir, { recursive: true, force: true })
    },
  }
}
