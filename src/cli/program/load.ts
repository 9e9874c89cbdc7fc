import type { Command } from 'commander'
import { globals } from './options.js'

/** `weir load`: the refined tables into a warehouse. */
export function registerLoad(program: Command): void {
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
      const { loadCommand } = await import('../commands/load.js')
      await loadCommand(opts, globals(cmd))
    })
}
