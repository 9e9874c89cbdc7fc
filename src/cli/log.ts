import { scrub } from '../core/redact.js'

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]
export type LogFormat = 'text' | 'json'

export interface LogSettings {
  /** Of result lines on stdout: `--log-format`, else text on a terminal and JSON off it. */
  readonly format: LogFormat
  /** Of notes and errors on stderr: JSON only when asked (`--log-format json`), since people read them. */
  readonly stderrFormat: LogFormat
  readonly level: LogLevel
  /** stdout is a terminal: progress is drawn, and text is the default format. */
  readonly terminal: boolean
}

/**
 * How a command reports as it goes: text for people (the default on a terminal), one JSON object
 * per line for programs (the default otherwise, or `--log-format json`). What a command reports
 * (`event`) goes to stdout; notes, warnings and errors to stderr, as text unless `--log-format json`
 * says otherwise. `--quiet`
 * keeps errors only; progress is drawn only on a terminal, in text, at level info or below.
 */
export interface Log extends LogSettings {
  /** A result line: `text` for people, `fields` for programs. */
  event(fields: Readonly<Record<string, unknown>>, text: string, level?: LogLevel): void
  /** A line for stderr (`weir: ...` in text). */
  say(level: LogLevel, message: string, fields?: Readonly<Record<string, unknown>>): void
  enabled(level: LogLevel): boolean
}

/** The settings the flags ask for, wherever on the command line they are (they are global). */
export function logSettings(argv: readonly string[], terminal = process.stdout.isTTY === true): LogSettings {
  const value = (flag: string) => {
    const i = argv.findIndex((a) => a === flag || a.startsWith(`${flag}=`))
    if (i < 0) return undefined
    return argv[i]!.includes('=') ? argv[i]!.slice(flag.length + 1) : argv[i + 1]
  }
  const format =
    value('--log-format') === 'json' ? 'json' : value('--log-format') === 'text' ? 'text' : undefined
  const level = LOG_LEVELS.find((l) => l === value('--log-level'))
  return {
    format: format ?? (terminal ? 'text' : 'json'),
    stderrFormat: format ?? 'text',
    level: argv.includes('--quiet') ? 'error' : (level ?? 'info'),
    terminal,
  }
}

/** Where text lines go first while something owns the terminal (progress bars); true when it took the line. */
let divert: ((stream: 'out' | 'err', text: string) => boolean) | undefined

export function divertText(fn: typeof divert): void {
  divert = fn
}

export function createLog(settings: LogSettings): Log {
  const rank = (l: LogLevel) => LOG_LEVELS.indexOf(l)
  const enabled = (l: LogLevel) => rank(l) >= rank(settings.level)
  const json = (level: LogLevel, fields: Readonly<Record<string, unknown>>) =>
    `${scrub(JSON.stringify({ time: new Date().toISOString(), level, ...fields }))}\n`
  return {
    ...settings,
    enabled,
    event(fields, text, level = 'info') {
      if (!enabled(level)) return
      if (settings.format === 'json') process.stdout.write(json(level, fields))
      else if (!divert?.('out', `${text}\n`)) process.stdout.write(`${text}\n`)
    },
    say(level, message, fields = {}) {
      if (!enabled(level)) return
      if (settings.stderrFormat === 'json') process.stderr.write(json(level, { message, ...fields }))
      else {
        const text = `weir: ${message.replace(/\s*\n\s*/g, ' ')}\n`
        if (!divert?.('err', text)) process.stderr.write(text)
      }
    },
  }
}

let current: Log = createLog(logSettings(process.argv.slice(2)))

/** The process's log, as its command line asked. */
export function log(): Log {
  return current
}

/** Sets the log from the command line (main does this once, before a command runs). */
export function configureLog(argv: readonly string[]): Log {
  current = createLog(logSettings(argv))
  return current
}
