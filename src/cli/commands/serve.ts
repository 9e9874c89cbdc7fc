import { whenAborted } from '../../core/time.js'
import { startServing } from '../../pipeline/serve.js'
import { type GlobalOptions, interruption, withPipeline } from '../context.js'

/** `weir serve [--port] [--host] [--no-sink]`: the serving sink and the read-only API, until Ctrl+C. */
export async function serveCommand(
  opts: { port: number; host: string; sink: boolean },
  globals: GlobalOptions,
): Promise<void> {
  const signal = interruption()
  await withPipeline(globals, async (p) => {
    const terminal = process.stdout.isTTY === true
    const s = await startServing(p, {
      port: opts.port ?? p.config.serve.port,
      host: opts.host ?? p.config.serve.host,
      sink: opts.sink,
      log: (l) =>
        process.stdout.write(
          terminal
            ? `${new Date().toISOString().slice(11, 19)}  ${l.method} ${l.path}  ${l.status}  ${l.ms.toFixed(1)} ms${l.key ? `  key ${l.key}` : ''}\n`
            : `${JSON.stringify({ time: new Date().toISOString(), ...l })}\n`,
        ),
    })
    process.stderr.write(`weir serve: ${s.url} (store ${s.store.kind}); docs at ${s.url}/docs\n`)
    // The sink failing for good (its store gone) ends the command with its error, not a crash.
    const failed = s.sink.then(
      () => new Promise<never>(() => undefined),
      (err: unknown) => err,
    )
    const stopped = whenAborted(signal)
    const err = await Promise.race([stopped, failed])
    await s.close()
    if (err !== undefined) throw err
  })
}
