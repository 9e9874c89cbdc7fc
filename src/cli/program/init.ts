import type { Command } from 'commander'

/** `weir init`: a new project, or one of the examples. */
export function registerInit(program: Command): void {
  program
    .command('init')
    .description(
      'create a project (config, models, tests) whose sources use the built-in API simulator until credentials are set',
    )
    .argument('<dir>', 'a new or empty folder')
    .option(
      '--example <name>',
      'start from one of the examples instead: x-tweets-lake, x-stream-serving, weather-alerts, movies-enrichment',
    )
    .action(async (dir: string, opts: { example?: string }) => {
      const { initCommand } = await import('../commands/init.js')
      await initCommand(dir, opts)
    })
}
