import { readFileSync } from 'node:fs'
import { Command, CommanderError, Option } from 'commander'
import { configureLog, LOG_LEVELS } from './log.js'
import { registerAlerts } from './program/alerts.js'
import { registerCatalog } from './program/catalog.js'
import { registerInit } from './program/init.js'
import { registerLoad } from './program/load.js'
import { registerProject } from './program/project.js'
import { registerQuery } from './program/query.js'
import { registerRun } from './program/run.js'
import { registerServe } from './program/serve.js'
import { registerMaintain, registerStages } from './program/stages.js'

// Only commander is loaded up front: every command imports its implementation (and with it DuckDB,
// the AWS SDK, zod) when it runs, which keeps `weir --help` well under 300 ms.
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string
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
    .addOption(
      new Option(
        '--log-format <format>',
        'text or one JSON object per line (default: text on a terminal, else json)',
      ).choices(['text', 'json']),
    )
    .addOption(
      new Option('--log-level <level>', 'least important lines shown (default: info)').choices(LOG_LEVELS),
    )
    .option('-q, --quiet', 'errors only: no progress, notes or summaries (the exit code still tells)')
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

  // Help lists the commands in the order they are registered: the flow first, then operating it.
  for (const register of [
    registerStages,
    registerMaintain,
    registerInit,
    registerRun,
    registerQuery,
    registerProject,
    registerCatalog,
    registerLoad,
    registerServe,
    registerAlerts,
  ])
    register(program)

  const withSubcommands = (cmd: Command): Command[] => [cmd, ...cmd.commands.flatMap(withSubcommands)]
  for (const cmd of withSubcommands(program)) {
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
  const log = configureLog(argv)
  try {
    await buildProgram().parseAsync(argv as string[], { from: 'user' })
    return 0
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version'
        ? 0
        : 2
    }
    const { errorMessage, WeirError } = await import('../core/errors.js')
    const { scrub } = await import('../core/redact.js')
    log.say(
      'error',
      errorMessage(err),
      err instanceof WeirError ? { code: err.code, stage: err.stage, retryable: err.retryable } : {},
    )
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
