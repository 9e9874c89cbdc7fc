import type { Command } from 'commander'
import { formatOption, globals, positiveInt } from './options.js'

/** The stage commands: the demo, and each stage run by hand. */
export function registerStages(program: Command): void {
  program
    .command('demo')
    .description(
      'run every stage once against the built-in API simulator (X search, Tomorrow.io weather, an IMDB listing with TMDB), build the example models and their tests, then an example query',
    )
    .option(
      '--tweets-per-hour <n>',
      "the simulator's tweet rate (it holds 3 days of history)",
      positiveInt,
      60,
    )
    .addOption(formatOption(['table', 'json'], 'table'))
    .addHelpText(
      'after',
      '\nThe lake defaults to ./demo-lake. A lake the demo made before is reset; any other non-empty lake is refused.',
    )
    .action(async (opts, cmd: Command) => {
      const { demoCommand } = await import('../commands/demo.js')
      await demoCommand(opts, globals(cmd))
    })

  program
    .command('ingest')
    .description("pull the config's sources once and publish their records to the stream")
    .argument('[source...]', 'sources to run (default: all)')
    .option('--once', "run once and exit (schedules are `weir run`'s)")
    .action(async (sources: string[], _opts, cmd: Command) => {
      const { ingestCommand } = await import('../commands/stages.js')
      await ingestCommand(sources, globals(cmd))
    })

  program
    .command('land')
    .description(
      'write every record waiting in the stream to raw NDJSON files (raw/<source>/json/<resource>/yyyy/mm/dd/)',
    )
    .option('--follow', 'keep landing new records as they arrive, until Ctrl+C')
    .option('--refine', 'refine the tables each round of files lands in, as it lands (micro-batches)')
    .action(async (opts: { follow?: boolean; refine?: boolean }, cmd: Command) => {
      const { landCommand } = await import('../commands/stages.js')
      await landCommand(opts.follow ?? false, globals(cmd), opts.refine ?? false)
    })

  program
    .command('refine')
    .description(
      'turn raw files not yet refined into snappy Parquet in the trusted zone (trusted/<source>/<resource>/dt=YYYY-MM-DD/)',
    )
    .argument('[table...]', 'raw tables to refine, e.g. x_tweets (default: all)')
    .option('--status', 'show what is waiting to be refined, per raw table, and refine nothing')
    .option('--compact', "rewrite each trusted partition's small files as files of about --target-size")
    .option('--target-size <size>', 'file size compaction aims at', '128MB')
    .option(
      '--rewind <time|file>',
      'refine again what landed since a time (2026-11-20, 6h) or a raw file or folder: its trusted partitions are rebuilt from raw',
    )
    .action(
      async (
        tables: string[],
        opts: { status?: boolean; compact?: boolean; targetSize: string; rewind?: string },
        cmd: Command,
      ) => {
        const { refineCommand, refineStatusCommand, compactCommand } = await import('../commands/stages.js')
        if (opts.status) await refineStatusCommand(globals(cmd))
        else if (opts.compact) await compactCommand(tables, opts.targetSize, globals(cmd))
        else await refineCommand(tables, globals(cmd), opts.rewind)
      },
    )
}

/** `weir maintain`: Iceberg snapshot expiry and removal of the files no kept snapshot uses. */
export function registerMaintain(program: Command): void {
  program
    .command('maintain')
    .description(
      "expire Iceberg tables' snapshots past their retention and delete the files no kept snapshot uses",
    )
    .argument(
      '[table...]',
      'trusted or refined tables, e.g. x_tweets fact_tweet (default: every Iceberg table)',
    )
    .option('--retention <duration>', "keep snapshots this recent (default: each table's retention setting)")
    .action(async (tables: string[], opts: { retention?: string }, cmd: Command) => {
      const { maintainCommand } = await import('../commands/stages.js')
      await maintainCommand(tables, opts.retention, globals(cmd))
    })
}
