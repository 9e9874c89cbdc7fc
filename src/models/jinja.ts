import nunjucks from 'nunjucks'
import { WeirError } from '../core/errors.js'

/** What a model's Jinja sees besides its own text: the project's macros and variables. */
export interface Templating {
  /** Macro files (`macros/**\/*.sql`), by path relative to the project. */
  readonly macros: ReadonlyMap<string, string>
  /** `var('name')`: the config's `models.vars`, overridden by `--vars`. */
  readonly vars: Readonly<Record<string, unknown>>
}

export const NO_TEMPLATING: Templating = { macros: new Map(), vars: {} }

export interface RenderContext {
  /** `is_incremental()`: true only while an incremental model adds to a table it built before. */
  readonly incremental: boolean
  /** `{{ this }}`: the model's own table. */
  readonly self: string
}

const MACRO = /\{%-?\s*macro\s+([A-Za-z_]\w*)/g

/**
 * Renders a model (or test) as dbt does, with a real Jinja engine (nunjucks): `set`, `if`, `for`,
 * macros from `macros/`, `var()`, `env_var()`, `is_incremental()` and `this`. `ref()` and `source()`
 * render as the plain calls `ref('m')` and `source('x', 'tweets')`, which Weir then resolves to
 * tables; this keeps resolution (and the build's substitutions) in one place. Tags keep their
 * newlines, so lines of the output are the file's unless a block was left out.
 */
export function renderSql(path: string, text: string, t: Templating, ctx: RenderContext): string {
  if (!/\{[{%#]/.test(text)) return text
  const { env, imports } = environment(t)
  // A global, so macros see it too; rendering is synchronous, so the next render cannot interleave.
  env.addGlobal('is_incremental', () => ctx.incremental)
  try {
    return new nunjucks.Template(imports + text, env, path, true).render({ this: ctx.self })
  } catch (err) {
    throw jinjaError(path, text, err)
  }
}

// Every model of a project renders with the same environment: its macro files compile once.
const environments = new WeakMap<Templating, { env: nunjucks.Environment; imports: string }>()

function environment(t: Templating): { env: nunjucks.Environment; imports: string } {
  let made = environments.get(t)
  if (!made) {
    // Every macro is in scope in every model, as in dbt; the imports render as nothing, on line 1.
    let imports = ''
    for (const [file, src] of t.macros) {
      const names = [...src.matchAll(MACRO)].map((m) => m[1]!)
      if (names.length) imports += `{% from ${JSON.stringify(file)} import ${names.join(', ')} %}`
    }
    made = { env: newEnvironment(t), imports }
    environments.set(t, made)
  }
  return made
}

function newEnvironment(t: Templating): nunjucks.Environment {
  const loader = {
    getSource: (name: string) => {
      const src = t.macros.get(name)
      return src === undefined ? null : { src, path: name }
    },
  }
  const env = new nunjucks.Environment(loader as unknown as nunjucks.ILoader, {
    autoescape: false,
    throwOnUndefined: true,
  })
  const quote = (s: unknown) => `'${String(s).replaceAll("'", "''")}'`
  env.addGlobal('ref', (name: unknown) => `ref(${quote(name)})`)
  env.addGlobal('source', (src: unknown, table: unknown) => `source(${quote(src)}, ${quote(table)})`)
  env.addGlobal('config', () => '')
  env.addGlobal('var', (...args: unknown[]) => {
    const name = String(args[0])
    if (Object.hasOwn(t.vars, name)) return t.vars[name]
    if (args.length > 1) return args[1]
    throw callError(
      /\bvar\(/,
      `var('${name}') has no value: set it under models.vars in the config or pass --vars '{"${name}": ...}'`,
    )
  })
  env.addGlobal('env_var', (...args: unknown[]) => {
    const name = String(args[0])
    const v = process.env[name]
    if (v !== undefined) return v
    if (args.length > 1) return args[1]
    throw callError(
      /\benv_var\(/,
      `env_var('${name}') is not set in the environment (or .env) and has no default`,
    )
  })
  return env
}

// nunjucks numbers the lines of errors thrown inside a call from 0, and wraps their message: Weir's
// own errors carry a mark and the call to find in the text.
const MARK = '\u0001'

function callError(call: RegExp, message: string): Error {
  return new Error(`${MARK}${message}${MARK}${call.source}`)
}

/** nunjucks says `(path) [Line 3, Column 8]\n  message`; Weir says `path:3: message`. */
function jinjaError(path: string, text: string, err: unknown): WeirError {
  const raw = err instanceof Error ? err.message : String(err)
  const own = raw.split(MARK)
  let line = Number(/\[Line (\d+)/.exec(raw)?.[1] ?? 1)
  let message = raw
    .replace(/^.*?\n\s*/s, '')
    .replace(/^Error:\s*/, '')
    .trim()
  if (own.length === 3) {
    message = own[1]!
    const at = text.search(new RegExp(own[2]!))
    if (at >= 0) line = text.slice(0, at).split('\n').length
  }
  const file = /^\(([^)]+)\)/.exec(raw)?.[1]
  const where = file && file !== path ? `${file}:${line} (used by ${path})` : `${path}:${line}`
  return new WeirError(`${where}: ${message}`, { code: 'MODEL', stage: 'model', cause: err })
}
