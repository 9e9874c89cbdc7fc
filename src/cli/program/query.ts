import { type Command, Option } from 'commander'
import { globals } from './options.js'

/** SQL: building the models and querying the lake. */
export function registerQuery(program: Command): void {
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
    .option('--vars <yaml>', `values of var() in models, as YAML or JSON: '{"start_date": "2026-11-01"}'`)
    .action(
      async (
        opts: { select?: string[]; fullRefresh?: boolean; compile?: boolean; test?: boolean; vars?: string },
        cmd: Command,
      ) => {
        const { modelCommand } = await import('../commands/model.js')
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
    .option(
      '--as-of <time|snapshot>',
      'time travel: Iceberg tables as they were at a time (2026-12-01T10:00:00Z), a duration ago (10m) or a snapshot id',
    )
    .action(async (sql: string | undefined, opts, cmd: Command) => {
      const { queryCommand } = await import('../commands/query.js')
      await queryCommand(sql, opts, globals(cmd))
    })
}
