import { resolve } from 'node:path'
import { expect, it } from 'vitest'
import type { ObjectStore } from '../../src/storage/storage.js'
import { createEmbeddedStream } from '../../src/stream/embedded/embedded-stream.js'
import { keys } from '../helpers/lake.js'
import { runKillable, tempDir } from '../helpers/services.js'

const WORKER = resolve('test/fixtures/workers/landing-crash.mjs')

/** Runs the landing worker; kills it after `killAfterMs`, or lets it finish when undefined. */
const runWorker = (lake: string, streamDir: string, env: NodeJS.ProcessEnv, killAfterMs?: number) =>
  runKillable(WORKER, [lake, streamDir, killAfterMs === undefined ? 'once' : 'follow'], killAfterMs, env)

/**
 * Crash test: records published up front, then landing killed with SIGKILL at random moments,
 * `rounds` times, then run to the end. The raw zone must hold each record exactly once, and
 * nothing half-written.
 */
export function landingCrashTest(
  name: string,
  lake: () => Promise<{ uri: string; store: ObjectStore; env?: NodeJS.ProcessEnv }>,
  rounds: number,
) {
  it(`on ${name}: after ${rounds} kills at random moments, each record is in the raw zone exactly once`, async () => {
    const { uri, store, env = {} } = await lake()
    const streamDir = await tempDir('weir-crash-stream-')
    const stream = await createEmbeddedStream(streamDir, { partitions: 2 })
    const input: string[] = []
    for (let i = 0; i < 4_000; i++) {
      const doc =
        i % 7 === 0
          ? { id: i, created_at: `2026-11-${20 + (i % 3)}T10:00:00Z`, geo: { lat: 1 } }
          : { id: i, created_at: `2026-11-${20 + (i % 3)}T10:00:00Z`, text: 'x'.repeat(i % 90) }
      input.push(JSON.stringify(doc))
    }
    for (let i = 0; i < input.length; i += 250) {
      await stream.publish(
        'x',
        input.slice(i, i + 250).map((v, k) => ({
          key: String((i + k) % 11),
          value: Buffer.from(v),
          headers: { resource: ['tweets', 'users', 'places'][(i + k) % 3]! },
        })),
      )
    }
    await stream.close()

    let killed = 0
    for (let round = 0; round < rounds; round++) {
      const r = await runWorker(uri, streamDir, env, 150 + Math.random() * 400)
      expect(r.code, r.stderr).toBe('SIGKILL')
      killed++
    }
    expect(killed).toBe(rounds)
    const last = await runWorker(uri, streamDir, env)
    expect(last.code, last.stderr).toBe(0)

    // Exactly once: every record in one file, once; every file whole (each line parses) and manifested.
    const lines: string[] = []
    const all = await keys(store, 'raw/')
    for (const file of all.filter((k) => k.endsWith('.ndjson'))) {
      const body = Buffer.from((await store.getBytes(file))!).toString('utf8')
      expect(body.endsWith('\n'), file).toBe(true)
      const mine = body.trimEnd().split('\n')
      for (const l of mine) {
        expect(() => JSON.parse(l), `a whole line in ${file}: ${l.slice(0, 80)}`).not.toThrow()
      }
      lines.push(...mine)
      const manifest = file.replace(/\/([^/]+)\.ndjson$/, '/_$1.manifest.json')
      expect(all, `${file} has its manifest`).toContain(manifest)
    }
    expect(all.every((k) => k.endsWith('.ndjson') || k.endsWith('.manifest.json'))).toBe(true) // no temp file
    const counts = new Map<string, number>()
    for (const l of lines) counts.set(l, (counts.get(l) ?? 0) + 1)
    const twice = [...counts].filter(([, n]) => n > 1).map(([l]) => l.slice(0, 40))
    const missing = input.filter((l) => !counts.has(l)).map((l) => l.slice(0, 40))
    expect({ twice: twice.slice(0, 5), missing: missing.slice(0, 5) }).toEqual({ twice: [], missing: [] })
    expect(lines.length).toBe(input.length)
  }, 180_000)
}
