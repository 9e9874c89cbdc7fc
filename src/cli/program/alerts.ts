import type { Command } from 'commander'
import { formatOption, globals } from './options.js'

/** `weir alerts`: the alert rules on live records. */
export function registerAlerts(program: Command): void {
  const alerts = program
    .command('alerts')
    .description('alert rules on live records: watch, list, history, silence, test')
  alerts
    .command('watch')
    .description('evaluate the rules on the stream and deliver what fires (weir run does this too)')
    .option('--follow', 'keep watching until Ctrl+C')
    .action(async (opts, cmd: Command) => {
      const { alertsWatch } = await import('../commands/alerts.js')
      await alertsWatch(opts, globals(cmd))
    })
  alerts
    .command('ls')
    .description('every rule, what it watches, its channels, and the keys pending or firing now')
    .addOption(formatOption(['table', 'json'], 'table'))
    .action(async (opts, cmd: Command) => {
      const { alertsLs } = await import('../commands/alerts.js')
      await alertsLs(opts, globals(cmd))
    })
  alerts
    .command('history')
    .description('alert events, newest first (also: select * from weir.alerts)')
    .option('--rule <rule>', 'only this rule')
    .option('--limit <n>', 'at most this many events', (v) => Number(v), 50)
    .addOption(formatOption(['table', 'csv', 'json'], 'table'))
    .action(async (opts, cmd: Command) => {
      const { alertsHistory } = await import('../commands/alerts.js')
      await alertsHistory(opts, globals(cmd))
    })
  alerts
    .command('silence')
    .description('send nothing from a rule (or one of its keys) for a while')
    .argument('<rule>', 'a rule of the config')
    .requiredOption('--for <duration>', 'how long, e.g. 2h')
    .option('--key <key>', 'only this key (e.g. a city)')
    .action(async (rule: string, opts, cmd: Command) => {
      const { alertsSilence } = await import('../commands/alerts.js')
      await alertsSilence(rule, opts, globals(cmd))
    })
  alerts
    .command('test')
    .description('show whether a record matches a rule and the message it would send; sends nothing')
    .argument('<rule>', 'a rule of the config')
    .requiredOption('--record <json>', 'a record as JSON')
    .action(async (rule: string, opts, cmd: Command) => {
      const { alertsTest } = await import('../commands/alerts.js')
      await alertsTest(rule, opts, globals(cmd))
    })
}
