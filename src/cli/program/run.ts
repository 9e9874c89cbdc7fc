import { type Command, Option } from 'commander'
import { formatOption, globals } from './options.js'

/** `weir run`, its backfills and its history. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description(
      'run everything the config declares in this process: source schedules, landing (refining as it lands), models after refine; Ctrl+C or SIGTERM stops cleanly',
    )
    .option('--once', 'run every job once, drain the stream, flush every stage, then exit')
    .addOption(
      new Option('--role <stage...>', 'run only these stages (several processes can share the work)').choices(
        ['ingest', 'landing', 'refine', 'models', 'warehouse', 'alerts', 'serve'],
      ),
    )
    .action(async (opts, cmd: Command) => {
      const { runCommand } = await import('../commands/run.js')
      await runCommand(opts, globals(cmd))
    })

  program
    .command('backfill')
    .description(
      'run a source over past windows (run.backfill.<source> says how a window is passed), one run per window, resumable',
    )
    .argument('<source>', 'a source of the config')
    .requiredOption('--from <date>', 'first day (2026-11-01) or time')
    .requiredOption('--to <date>', 'last day, included (2026-11-03), or end time')
    .option('--dry-run', 'list the windows and their parameters; run nothing')
    .action(async (source: string, opts, cmd: Command) => {
      const { backfillCommand } = await import('../commands/run.js')
      await backfillCommand(source, opts, globals(cmd))
    })

  program
    .command('runs')
    .description('the run history: job, start, end, outcome, attempts, records, files, error (newest first)')
    .option('--job <name>', 'only this job')
    .option('--failed', 'only failed runs')
    .option('--limit <n>', 'at most this many runs', (v) => Number(v), 50)
    .addOption(formatOption(['table', 'json'], 'table'))
    .action(async (opts, cmd: Command) => {
      const { runsCommand } = await import('../commands/run.js')
      await runsCommand(opts, globals(cmd))
    })
}
