import { join } from 'node:path'
import { beforeAll, expect, it } from 'vitest'
import { serveCommand } from '../../src/cli/commands/serve.js'
import { startWeir, weir } from '../helpers/cli.js'
import { tempDir } from '../helpers/services.js'

const env = { X_STREAM_RUN_FOR: '2s' }
let dir: string

beforeAll(async () => {
  dir = join(await tempDir('weir-serve-signal-'), 'p')
  const init = await weir(['init', dir, '--example', 'x-stream-serving'], env)
  expect(init.code, init.stderr).toBe(0)
  const once = await weir(['run', '--once'], env, dir)
  expect(once.code, once.stderr).toBe(0)
}, 60_000)

it('weir serve stopped by SIGTERM once serving exits 0', { timeout: 30_000 }, async () => {
  const w = startWeir(['serve', '--port', '0'], dir, env)
  while (!/weir serve: http/.test(w.stderr()) && !w.exited()) await new Promise((r) => setTimeout(r, 50))
  w.stop()
  const end = await w.done
  expect(end.code, end.stderr).toBe(0)
})

/**
 * A SIGTERM that comes while `weir serve` is still starting (its store opening, its model tables
 * syncing) stops it once it has started; it used to be lost, and the command served until killed.
 * The command runs in this process so the signal lands in that window every time.
 */
it('weir serve stopped by SIGTERM while it starts ends cleanly once started', {
  timeout: 60_000,
}, async () => {
  // The test runner's own listeners stay out of it: only the command's hear this SIGTERM.
  const theirs = process.listeners('SIGTERM')
  process.removeAllListeners('SIGTERM')
  const stderr = process.stderr.write.bind(process.stderr)
  let said = ''
  process.stderr.write = ((s: string) => {
    said += s
    return true
  }) as typeof process.stderr.write
  try {
    const serving = serveCommand(
      { port: 0, host: '127.0.0.1', sink: true },
      { config: join(dir, 'weir.config.ts') },
    )
    process.emit('SIGTERM', 'SIGTERM')
    const ended = await Promise.race([
      serving.then(() => 'ended'),
      new Promise((r) => setTimeout(() => r('still serving after 30 s'), 30_000).unref()),
    ])
    expect(ended, said).toBe('ended')
    expect(said).toMatch(/weir serve: http:\/\/127\.0\.0\.1:\d+/)
  } finally {
    process.stderr.write = stderr
    process.removeAllListeners('SIGTERM')
    for (const l of theirs) process.on('SIGTERM', l)
  }
})
