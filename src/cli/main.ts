import { readFileSync } from 'node:fs'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import type { GlobalOptions } from './context.js'

// Only commander is loaded up front: every command imports its implementation (and with it DuckDB,
// the AWS SDK, zod) when it runs, which keeps `weir --help` well under 300 ms.
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string
}

const formatOption = (formats: readonly string[], dflt: string) =>
  new Option('-f, --format <format>', 'output format').choices(formats).default(dflt)

const positiveInt = (v: string) => {
  const n = Number(v)
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number')
  return n
}

/** Builds the `weir` command line. Exported for tests and for embedding. */
export function buildProgram(): Command {
  const program = new Command('weir')
    .description(
      'Weir: a data-lake pipeline in one process. Sources → stream → raw → trusted Parquet → SQL, from one config file.',
    )
    .version(pkg.version, '-v, --version')
    .option(
      '-c, --config <file>',
      'config file (default: weir.config.ts, weir.yaml or weir.json in this directory)',
    )
    .option('--lake <uri>', 'lake location, overriding the config: a directory or s3://bucket/prefix')
    .option('--verbose', 'print stack traces with errors')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      outputError: (str, write) => write(oneLine(str)),
    })
  program.addHelpText(
    'after',
    `
Examples:
  weir demo --lake ./demo-lake                      run the whole pipeline on synthetic data
  weir query "select count(*) from trusted.x_tweets" --lake ./demo-lake
  weir catalog ls --lake s3://my-bucket/lake        (S3 credentials from the standard AWS chain)

Config values may use \${VAR} and \${VAR:-default}; a .env file beside the config is read too.`,
  )

  const globals = (cmd: Command) => cmd.optsWithGlobals() as GlobalOptions

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
      const { demoCommand } = await import('./commands/demo.js')
      await demoCommand(opts, globals(cmd))
    })

  program
    .command('ingest')
    .description("pull the config's sources once and publish their records to the stream")
    .argument('[source...]', 'sources to run (default: all)')
    .option('--once', "run once and exit (schedules are `weir run`'s)")
    .action(async (sources: string[], _opts, cmd: Command) => {
      const { ingestCommand } = await import('./commands/stages.js')
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
      const { landCommand } = await import('./commands/stages.js')
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
        const { refineCommand, refineStatusCommand, compactCommand } = await import('./commands/stages.js')
        if (opts.status) await refineStatusCommand(globals(cmd))
        else if (opts.compact) await compactCommand(tables, opts.targetSize, globals(cmd))
        else await refineCommand(tables, globals(cmd), opts.rewind)
      },
    )

  program
    .command('init')
    .description(
      'create a project (config, models, tests) whose sources use the built-in API simulator until credentials are set',
    )
    .argument('<dir>', 'a new or empty folder')
    .option(
      '--example <name>',
      'start from one of the examples instead: x-tweets-lake, weather-alerts, movies-enrichment',
    )
    .action(async (dir: string, opts: { example?: string }) => {
      const { initCommand } = await import('./commands/init.js')
      await initCommand(dir, opts)
    })

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
      const { runCommand } = await import('./commands/run.js')
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
      const { backfillCommand } = await import('./commands/run.js')
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
      const { runsCommand } = await import('./commands/run.js')
      await runsCommand(opts, globals(cmd))
    })

  program
    .command('model')
    .description('build the SQL models (models/**/*.sql) into the refined zone, then run their data tests')
    .option(
      '-s, --select <selector...>',
      'models to build: name, name+ (and downstream), +name (and upstream), tag:x',
    )
    .option('--full-refresh', 'rebuild incremental models and snapshots from scratch')
    .option('--compile', 'print the SQL each selected model will run, and run nothing')
    .option('--test', 'run the data tests only (of the selected models)')
    .option('--no-test', 'build only')
    .action(
      async (
        opts: { select?: string[]; fullRefresh?: boolean; compile?: boolean; test?: boolean },
        cmd: Command,
      ) => {
        const { modelCommand } = await import('./commands/model.js')
        // Commander gives --test and --no-test one value: true, false, or undefined (neither).
        await modelCommand({ ...opts, ...(opts.test === true ? { testOnly: true } : {}) }, globals(cmd))
      },
    )

  program
    .command('query')
    .description(
      'run SQL over every catalog table; zones are schemas: raw, trusted, refined; with no SQL, an interactive shell',
    )
    .argument('[sql]', 'a SQL statement, e.g. "select count(*) as n from trusted.x_tweets"')
    .addOption(
      new Option(
        '-f, --format <format>',
        'output format (default: table, or from --out: .csv, .json, .parquet)',
      ).choices(['table', 'csv', 'json', 'parquet']),
    )
    .option('-o, --out <file>', 'write the result to this file instead of the terminal')
    .action(async (sql: string | undefined, opts, cmd: Command) => {
      const { queryCommand } = await import('./commands/query.js')
      await queryCommand(sql, opts, globals(cmd))
    })

  program
    .command('validate')
    .description(
      'check the config (every duration, size, schedule, preset, time zone and reference to a source) without running anything; exit 1 if it is wrong',
    )
    .action(async (_opts, cmd: Command) => {
      const { validateCommand } = await import('./commands/validate.js')
      await validateCommand(globals(cmd))
    })

  program
    .command('status')
    .description("each stream consumer group's position and lag, and each source's last run")
    .addOption(formatOption(['table', 'json'], 'table'))
    .action(async (opts, cmd: Command) => {
      const { statusCommand } = await import('./commands/status.js')
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
      'serve fake X, Tomorrow.io, Open-Meteo and TMDB APIs on localhost, for tests and demos without credentials',
    )
    .option('-p, --port <port>', 'port to listen on', nonNegative, 4010)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--seed <n>', 'seed of the generated data', nonNegative, 42)
    .option('--tweets-per-hour <n>', 'how fast new tweets appear', positiveInt, 60)
    .option('--fail-rate <share>', 'share of requests answered with a 429 or 500 (0..1)', nonNegative, 0)
    .option('--latency <ms>', 'added latency per request', nonNegative, 0)
    .option('--frozen', 'serve the world as it is at start-up: no new data over time (reproducible runs)')
    .action(async (opts) => {
      const { simulateCommand } = await import('./commands/simulate.js')
      await simulateCommand(opts)
    })

  const catalog = program.command('catalog').description('list and describe the tables of the lake')
  catalog
    .command('ls')
    .description('every table of every zone with its format, location and columns')
    .addOption(new Option('--zone <zone>', 'only this zone').choices(['raw', 'trusted', 'refined']))
    .addOption(formatOption(['table', 'json'], 'table'))
    .action(async (opts, cmd: Command) => {
      const { catalogLs } = await import('./commands/catalog.js')
      await catalogLs(opts, globals(cmd))
    })
  catalog
    .command('describe')
    .description("one table's columns, location, partitioning and key")
    .argument('<table>', 'zone.table, e.g. trusted.x_tweets')
    .addOption(formatOption(['table', 'json'], 'table'))
    .action(async (name: string, opts, cmd: Command) => {
      const { catalogDescribe } = await import('./commands/catalog.js')
      await catalogDescribe(name, opts, globals(cmd))
    })

  catalog
    .command('history')
    .description("a table's schema versions: when, from which raw file, what changed")
    .argument('<table>', 'zone.table, e.g. trusted.x_tweets')
    .addOption(formatOption(['table', 'json'], 'table'))
    .action(async (name: string, opts, cmd: Command) => {
      const { catalogHistory } = await import('./commands/catalog.js')
      await catalogHistory(name, opts, globals(cmd))
    })
  catalog
    .command('ddl')
    .description("the DDL that lets another engine query a table over the lake's files")
    .argument('<table>', 'zone.table, e.g. trusted.x_tweets')
    .addOption(
      new Option('--dialect <dialect>', 'target engine')
        .choices(['duckdb', 'athena', 'trino'])
        .default('athena'),
    )
    .option(
      '--location <uri>',
      "where that engine finds the lake's files (default: the lake), e.g. s3://bucket/lake",
    )
    .action(async (name: string, opts, cmd: Command) => {
      const { catalogDdl } = await import('./commands/catalog.js')
      await catalogDdl(name, opts, globals(cmd))
    })

  catalog
    .command('sync-glue')
    .description(
      'register the trusted and refined Parquet tables, and their dt partitions, in the AWS Glue Data Catalog (for Athena, Spectrum, EMR)',
    )
    .argument('[table...]', 'only these tables, e.g. x_tweets (default: all)')
    .option('--location <uri>', "where the lake's files are in S3 (default: the lake, when it is in S3)")
    .option('--database-prefix <prefix>', 'Glue database per zone: <prefix>trusted, <prefix>refined', '')
    .option('--projection', "let Athena project the dt partitions instead of registering each day's")
    .option('--region <region>', 'AWS region (default: storage.s3.region, AWS_REGION)')
    .option('--endpoint <url>', 'Glue endpoint (default: AWS_ENDPOINT_URL_GLUE, AWS_ENDPOINT_URL, or AWS)')
    .action(async (tables: string[], opts, cmd: Command) => {
      const { catalogSyncGlue } = await import('./commands/catalog.js')
      await catalogSyncGlue(tables, opts, globals(cmd))
    })

  const load = program.command('load').description('load the refined tables into a warehouse')
  load
    .command('postgres')
    .description(
      'the refined tables into PostgreSQL: typed, keyed, by COPY; incremental by key, or a full refresh swapped in atomically',
    )
    .option('--url <url>', 'postgres:// URL (default: warehouse.postgres.url, then PG* variables)')
    .option('--schema <schema>', 'target schema (default: warehouse.postgres.schema, refined)')
    .option('-s, --select <model...>', 'only these models')
    .option('--full-refresh', 'reload whole tables (needed after a column changed type)')
    .action(async (opts, cmd: Command) => {
      const { loadCommand } = await import('./commands/load.js')
      await loadCommand(opts, globals(cmd))
    })

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
      const { serveCommand } = await import('./commands/serve.js')
      await serveCommand(opts, globals(cmd))
    })

  const alerts = program
    .command('alerts')
    .description('alert rules on live records: watch, list, history, silence, test')
  alerts
    .command('watch')
    .description('evaluate the rules on the stream and deliver what fires (weir run does this too)')
    .option('--follow', 'keep watching until Ctrl+C')
    .action(async (opts, cmd: Command) => {
      const { alertsWatch } = await import('./commands/alerts.js')
      await alertsWatch(opts, globals(cmd))
    })
  alerts
    .command('ls')
    .description('every rule, what it watches, its channels, and the keys pending or firing now')
    .addOption(formatOption(['table', 'json'], 'table'))
    .action(async (opts, cmd: Command) => {
      const { alertsLs } = await import('./commands/alerts.js')
      await alertsLs(opts, globals(cmd))
    })
  alerts
    .command('history')
    .description('alert events, newest first (also: select * from weir.alerts)')
    .option('--rule <rule>', 'only this rule')
    .option('--limit <n>', 'at most this many events', (v) => Number(v), 50)
    .addOption(formatOption(['table', 'csv', 'json'], 'table'))
    .action(async (opts, cmd: Command) => {
      const { alertsHistory } = await import('./commands/alerts.js')
      await alertsHistory(opts, globals(cmd))
    })
  alerts
    .command('silence')
    .description('send nothing from a rule (or one of its keys) for a while')
    .argument('<rule>', 'a rule of the config')
    .requiredOption('--for <duration>', 'how long, e.g. 2h')
    .option('--key <key>', 'only this key (e.g. a city)')
    .action(async (rule: string, opts, cmd: Command) => {
      const { alertsSilence } = await import('./commands/alerts.js')
      await alertsSilence(rule, opts, globals(cmd))
    })
  alerts
    .command('test')
    .description('show whether a record matches a rule and the message it would send; sends nothing')
    .argument('<rule>', 'a rule of the config')
    .requiredOption('--record <json>', 'a record as JSON')
    .action(async (rule: string, opts, cmd: Command) => {
      const { alertsTest } = await import('./commands/alerts.js')
      await alertsTest(rule, opts, globals(cmd))
    })

  for (const cmd of [
    program,
    ...program.commands,
    ...catalog.commands,
    ...alerts.commands,
    ...load.commands,
  ]) {
    cmd.exitOverride().configureOutput({ outputError: (str, write) => write(oneLine(str)) })
  }
  return program
}

/**
 * Runs the CLI and returns the exit code: 0 on success (and for --help), 2 for a usage error
 * (unknown command or flag), 1 for a failure at run time. Errors are one line; `--verbose` adds the stack.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const verbose = argv.includes('--verbose')
  try {
    await buildProgram().parseAsync(argv as string[], { from: 'user' })
    return 0
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version'
        ? 0
        : 2
    }
    const { errorMessage } = await import('../core/errors.js')
    const { scrub } = await import('../core/redact.js')
    process.stderr.write(`weir: ${errorMessage(err).replace(/\s*\n\s*/g, ' ')}\n`)
    if (verbose && err instanceof Error) process.stderr.write(scrub(`${err.stack ?? ''}\n${causeChain(err)}`))
    return 1
  }
}

/** Commander's errors are multi-line (message, then a suggestion); a CLI error is one line. */
function oneLine(str: string): string {
  return `weir: ${str
    .replace(/^error:\s*/, '')
    .replace(/\s*\n\s*/g, ' ')
    .trim()} (see weir --help)\n`
}

function causeChain(err: Error): string {
  let out = ''
  for (let c = err.cause; c instanceof Error; c = c.cause) out += `caused by: ${c.stack ?? c.message}\n`
  return out
}
