import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface DocCommand {
  /** The file it is printed in. */
  readonly file: string
  /** As printed (without `npx `, a trailing comment or a shell prompt). */
  readonly text: string
  /** Variables set before it on the same line (`SMTP_PORT=2525 weir ...`). */
  readonly env: Record<string, string>
  /** The words after `weir` (quotes removed), or the whole line for another program. */
  readonly argv: string[]
  readonly program: 'weir' | 'other'
  /** A usage line (`weir runs [--job j]`), not a command to run as printed. */
  readonly synopsis: boolean
}

/** The documents a user reads: the README, docs/ and the examples' READMEs. */
export function docFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`)
  const examples = readdirSync(join(root, 'examples'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => `examples/${d.name}/README.md`)
    .filter((f) => {
      try {
        readFileSync(join(root, f))
        return true
      } catch {
        return false
      }
    })
  return ['README.md', ...docs.sort(), ...examples.sort()]
}

/** Every command printed in a shell block or in inline code, in order, each once per file. */
export function docCommands(root: string): DocCommand[] {
  const out: DocCommand[] = []
  for (const file of docFiles(root)) {
    const text = readFileSync(join(root, file), 'utf8')
    const lines: string[] = []
    for (const m of text.matchAll(/```(bash|sh|shell|console)?\n([\s\S]*?)```/g))
      if (m[1]) lines.push(...m[2]!.split('\n').map((l) => l.replace(/\s+#\s.*$/, '').trim()))
    const prose = text.replace(/```[\s\S]*?```/g, '')
    for (const m of prose.matchAll(/`((?:[A-Z_]+=\S+ )*(?:npx )?weir(?: [^`]*)?)`/g)) lines.push(m[1]!)
    const seen = new Set<string>()
    for (const line of lines)
      for (const part of line.split(/\s+&&\s+/)) {
        const cmd = parse(file, part.trim())
        if (cmd && !seen.has(cmd.text)) {
          seen.add(cmd.text)
          out.push(cmd)
        }
      }
  }
  return out
}

function parse(file: string, line: string): DocCommand | undefined {
  if (!line || line.startsWith('#')) return undefined
  const env: Record<string, string> = {}
  let rest = line.replace(/^\$\s+/, '')
  for (let m = /^([A-Z_][A-Z0-9_]*)=(\S+)\s+/.exec(rest); m; m = /^([A-Z_][A-Z0-9_]*)=(\S+)\s+/.exec(rest)) {
    env[m[1]!] = m[2]!
    rest = rest.slice(m[0].length)
  }
  rest = rest.replace(/^npx\s+(?=weir\b)/, '')
  if (!/^weir(\s|$)/.test(rest)) {
    return /^(npm|npx|cd|node|git)\b/.test(rest)
      ? { file, text: rest, env, argv: words(rest), program: 'other', synopsis: false }
      : undefined
  }
  const argv = words(rest).slice(1)
  const synopsis = /[[<|]|\.\.\.|…/.test(rest)
  return { file, text: rest, env, argv, program: 'weir', synopsis }
}

/** Shell words: quotes grouped and removed (the docs use no escapes inside quotes). */
function words(s: string): string[] {
  return [...s.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!)
}
