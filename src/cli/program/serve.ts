import type { Command } from 'commander'
import { globals } from './options.js'

/** `weir serve`: the served tables and their HTTP API. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'fill the served tables from the stream and answer a read-only HTTP API (OpenAPI at /openapi.json)',
    )
    .option('-p, --port <port>', 'port to listen on (default: serve.port, 8080)', (v) => Number(v))
    .option(
      '--host <host>',
      'address to listen on; anything but loopback needs serve.keys (default: serve.host, 127.0.0.1)',
    )
    .option('--no-sink', 'serve only; do not consume the stream')
    .action(async (opts, cmd: Command) => {
      const { serveCommand } = await import('../commands/serve.js')
      await serveCommand(opts, globals(cmd))
    })
}
