import { type Command, InvalidArgumentError } from 'commander'
import { formatOption, globals, positiveInt } from './options.js'

/** Looking at a project: its config, its state, and the API simulator. */
export function registerProject(program: Command): void {
  program
    .command('validate')
    .description(
      'check the config (every duration, size, schedule, preset, time zone and reference to a source) without running anything; exit 1 if it is wrong',
    )
    .action(async (_opts, cmd: Command) => {
      const { validateCommand } = await import('../commands/validate.js')
      await validateCommand(globals(cmd))
    })

  program
    .command('doctor')
    .description(
      'check what the project needs before it runs: Node, the config, credentials (which sources are simulated), the lake, free disk, the stream and every server the config names; each with its fix; exit 1 if one fails',
    )
    .addOption(formatOption(['text', 'json'], 'text'))
    .action(async (opts, cmd: Command) => {
      const { doctorCommand } = await import('../commands/doctor.js')
      await doctorCommand(opts, globals(cmd))
    })

  program
    .command('status')
    .description("each stream consumer group's position and lag, and each source's last run")
    .addOption(formatOption(['table', 'json'], 'table'))
    .action(async (opts, cmd: Command) => {
      const { statusCommand } = await import('../commands/status.js')
      await statusCommand(opts, globals(cmd))
    })

  const nonNegative = (v: string) => {
    const n = Number(v)
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number >= 0')
    return n
  }

  program
    .command('simulate')
    .description(
      'serve fake X (with its filtered stream), Tomorrow.io, Open-Meteo and TMDB APIs and an SSE feed on localhost, for tests and demos without credentials',
    )
    .option('-p, --port <port>', 'port to listen on', nonNegative, 4010)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--seed <n>', 'seed of the generated data', nonNegative, 42)
    .option('--tweets-per-hour <n>', 'how fast new tweets appear', positiveInt, 60)
    .option('--fail-rate <share>', 'share of requests answered with a 429 or 500 (0..1)', nonNegative, 0)
    .option('--latency <ms>', 'added latency per request', nonNegative, 0)
    .option('--stream-rate <n>', "items per second on X's filtered stream and the SSE feed", positiveInt, 5)
    .option(
      '--drop-every <seconds>',
      'drop every open stream connection this often (to try reconnection)',
      nonNegative,
      0,
    )
    .option('--frozen', 'serve the world as it is at start-up: no new data over time (reproducible runs)')
    .action(async (opts) => {
      const { simulateCommand } = await import('../commands/simulate.js')
      await simulateCommand(opts)
    })
}
