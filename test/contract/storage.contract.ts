import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { text } from 'node:stream/consumers'
import { describe, expect, it } from 'vitest'
import { WeirError } from '../../src/core/errors.js'
import type { ObjectStore } from '../../src/storage/storage.js'

/**
 * The object-store contract: every adapter must pass the same suite. `conditional: false` is for an
 * emulator that ignores conditional writes (s3rver ignores If-None-Match and If-Match; AWS S3 has
 * honoured them since 2024), where that case cannot be checked.
 */
export function storageContract(
  name: string,
  open: () => Promise<ObjectStore>,
  options: { readonly conditional?: boolean } = {},
): void {
  describe(`object store contract: ${name}`, () => {
    it('puts, heads, gets and deletes an object', async () => {
      const store = await open()
      await store.put('a/b/c.json', '{"x":1}')
      const info = await store.head('a/b/c.json')
      expect(info?.size).toBe(7)
      expect(info?.key).toBe('a/b/c.json')
      expect(await text(await store.get('a/b/c.json'))).toBe('{"x":1}')
      expect(Buffer.from((await store.getBytes('a/b/c.json'))!).toString()).toBe('{"x":1}')
      await store.delete('a/b/c.json')
      expect(await store.head('a/b/c.json')).toBeUndefined()
      expect(await store.getBytes('a/b/c.json')).toBeUndefined()
      await store.delete('a/b/c.json') // deleting twice is not an error
    })

    it('fails get of a missing key with STORAGE_NOT_FOUND', async () => {
      const store = await open()
      const err = await store.get('missing/key').then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(WeirError)
      expect((err as WeirError).code).toBe('STORAGE_NOT_FOUND')
    })

    it('overwrites atomically: a reader sees the old or the new content, never a mix', async () => {
      const store = await open()
      await store.put('over/x.txt', 'old')
      await store.put('over/x.txt', 'new content')
      expect(Buffer.from((await store.getBytes('over/x.txt'))!).toString()).toBe('new content')
      const listed = []
      for await (const o of store.list('over/')) listed.push(o.key)
      expect(listed).toEqual(['over/x.txt']) // no temporary file left behind
    })

    it.skipIf(options.conditional === false)(
      'writes conditionally: create only if absent, replace only the version it read',
      async () => {
        const store = await open()
        expect(await store.putIfMatch('lease/a.json', '{"v":1}', null)).toBe(true)
        expect(await store.putIfMatch('lease/a.json', '{"v":2}', null)).toBe(false)
        const first = (await store.head('lease/a.json'))!.etag
        expect(await store.putIfMatch('lease/a.json', '{"v":22}', first)).toBe(true)
        // The version it read is gone: a second writer holding it loses.
        expect(await store.putIfMatch('lease/a.json', '{"v":3}', first)).toBe(false)
        expect(Buffer.from((await store.getBytes('lease/a.json'))!).toString()).toBe('{"v":22}')
      },
    )

    it('uploads a local file by streaming it', async () => {
      const store = await open()
      const dir = await mkdtemp(join(tmpdir(), 'weir-put-'))
      const path = join(dir, 'big.bin')
      const bytes = Buffer.alloc(3 * 1024 * 1024, 7)
      await writeFile(path, bytes)
      await store.putFile('files/big.bin', path)
      expect((await store.head('files/big.bin'))?.size).toBe(bytes.length)
      expect(Buffer.compare(Buffer.from((await store.getBytes('files/big.bin'))!), bytes)).toBe(0)
    })

    it('lists by prefix in key order, across pages', async () => {
      const store = await open()
      const keys = Array.from({ length: 1105 }, (_, i) => `list/p/${String(i).padStart(5, '0')}.txt`)
      for (let i = 0; i < keys.length; i += 50)
        await Promise.all(keys.slice(i, i + 50).map((k) => store.put(k, k)))
      // A sibling that shares the prefix text but not the folder. (s3rver mis-orders `p.txt` before
      // `p/` across pages, unlike S3, so the sibling sorts after the folder here.)
      await store.put('list/pz.txt', 'sibling')
      await store.put('list/q/z.txt', 'other')
      const listed: string[] = []
      for await (const o of store.list('list/p/')) listed.push(o.key)
      expect(listed).toEqual(keys)
      const all: string[] = []
      for await (const o of store.list('list/')) all.push(o.key)
      expect(all).toEqual([...all].sort())
      expect(all.filter((k) => !k.startsWith('list/p/'))).toEqual(['list/pz.txt', 'list/q/z.txt'])
      expect(all).toHaveLength(1107)
      const none: string[] = []
      for await (const o of store.list('nothing-here/')) none.push(o.key)
      expect(none).toEqual([])
    })
  })
}
