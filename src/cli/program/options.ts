import { type Command, InvalidArgumentError, Option } from 'commander'
import type { GlobalOptions } from '../context.js'

/** `-f, --format`, with the formats a command can print. */
export const formatOption = (formats: readonly string[], dflt: string) =>
  new Option('-f, --format <format>', 'output format').choices(formats).default(dflt)

export const positiveInt = (v: string) => {
  const n = Number(v)
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number')
  return n
}

/** The options every command shares (--config, --lake, --verbose), wherever they were given. */
export const globals = (cmd: Command) => cmd.optsWithGlobals() as GlobalOptions
