import { type Command, Option } from 'commander'
import { formatOption, globals } from './options.js'

/** `weir catalog`: the tables of the lake, their history, DDL and Glue. */
export function registerCatalog(program: Command): void {
  const catalog = program.command('catalog').description('list and describe the tables of the lake')
  catalog
    .command('ls')
    .description('every table of every zone with its format, location and columns')
    .addOption(new Option('--zone <zone>', 'only this zone').choices(['raw', 'trusted', 'refined']))
    .addOption(formatOption(['table', 'json'], 'table'))
    .action(async (opts, cmd: Command) => {
      const { catalogLs } = await import('../commands/catalog.js')
      await catalogLs(opts, globals(cmd))
    })
  catalog
    .command('describe')
    .description("one table's columns, location, partitioning and key")
    .argument('<table>', 'zone.table, e.g. trusted.x_tweets')
    .addOption(formatOption(['table', 'json'], 'table'))
    .action(async (name: string, opts, cmd: Command) => {
      const { catalogDescribe } = await import('../commands/catalog.js')
      await catalogDescribe(name, opts, globals(cmd))
    })

  catalog
    .command('history')
    .description("a table's schema versions: when, from which raw file, what changed")
    .argument('<table>', 'zone.table, e.g. trusted.x_tweets')
    .addOption(formatOption(['table', 'json'], 'table'))
    .action(async (name: string, opts, cmd: Command) => {
      const { catalogHistory } = await import('../commands/catalog.js')
      await catalogHistory(name, opts, globals(cmd))
    })
  catalog
    .command('ddl')
    .description("the DDL that lets another engine query a table over the lake's files")
    .argument('<table>', 'zone.table, e.g. trusted.x_tweets')
    .addOption(
      new Option('--dialect <dialect>', 'target engine')
        .choices(['duckdb', 'athena', 'trino', 'redshift', 'spark'])
        .default('athena'),
    )
    .option(
      '--iam-role <arn>',
      "redshift: the role Spectrum assumes to read Glue and S3 (default: the cluster's default role)",
    )
    .option(
      '--location <uri>',
      "where that engine finds the lake's files (default: the lake), e.g. s3://bucket/lake",
    )
    .action(async (name: string, opts, cmd: Command) => {
      const { catalogDdl } = await import('../commands/catalog.js')
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
      const { catalogSyncGlue } = await import('../commands/catalog.js')
      await catalogSyncGlue(tables, opts, globals(cmd))
    })
  registerMigrate(catalog)
}

/** `weir catalog migrate`: Hive-style Parquet to Iceberg and back, in place. */
function registerMigrate(catalog: Command): void {
  catalog
    .command('migrate')
    .description(
      'convert trusted tables in place to the format the config gives them (tables.<t>.format), data files untouched: Hive-style Parquet to Iceberg, or back',
    )
    .argument(
      '[table...]',
      'trusted tables, e.g. x_tweets (default: every one whose format differs from the config)',
    )
    .action(async (tables: string[], _opts, cmd: Command) => {
      const { catalogMigrate } = await import('../commands/catalog-migrate.js')
      await catalogMigrate(tables, globals(cmd))
    })
}
