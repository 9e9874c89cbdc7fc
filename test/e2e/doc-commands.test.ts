import { mkdir } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSmtp } from '../alerts/helpers.js'
import { startWeir, weir } from '../helpers/cli.js'
import { type DocCommand, docCommands } from '../helpers/doc-commands.js'
import { serviceUp, tempDir } from '../helpers/services.js'

/**
 * Every command the README, docs/ and the examples' READMEs print, run as printed: in the demo's
 * folder, in a project made by `weir init`, or in a project made from the example whose README it
 * is. A usage line (`weir runs [--job j]`) is checked against the command's --help instead. What
 * cannot run here says why below (a real API key, AWS), and every other command must pass: a new
 * command in a doc either runs or gets a reason.
 */
const ROOT = resolve('.')
const PG = process.env.WEIR_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test'
const pgUp = await serviceUp('PostgreSQL', PG, 5432, 'the doc commands that load PostgreSQL')
const pgEnv = (() => {
  const u = new URL(PG)
  return {
    PGHOST: u.hostname,
    PGPORT: u.port || '5432',
    PGUSER: decodeURIComponent(u.username),
    PGPASSWORD: decodeURIComponent(u.password),
    PGDATABASE: u.pathname.slice(1),
  }
})()

/** Commands not run here, and why (each is run elsewhere or needs what CI does not have). */
const NOT_HERE: [RegExp, string][] = [
  [/^npm (ci|test)$/, 'what .ci/run itself runs'],
  [/^npm run demo$/, 'runs `weir demo --lake ./demo-lake`, which this test runs'],
  [/^npm (pack|install -g)/, 'test/e2e/install.test.ts packs and installs the tarball'],
  [/^cd /, 'changes folder: this test runs each command in its folder'],
  [/^npx cdk deploy/, 'needs an AWS account; test/deploy/aws.test.ts synthesizes the stack'],
  [/^weir demo --lake s3:/, 'needs an S3 endpoint; test/e2e/demo.test.ts runs it on s3rver'],
  [/^weir catalog sync-glue$/, 'needs AWS Glue; test/catalog/glue.test.ts runs it against a stand-in'],
  [
    /^weir query "select \* from trusted\.orders_orders"$/,
    "the README's orders source is the user's own code",
  ],
  [/^weir ingest github$/, 'needs a real API key (GITHUB_TOKEN) for the recipe'],
  [/^weir model --select fact_issue\+$/, "needs the recipe's own models"],
]

/** Where a command needs a config that has what it is about (the deployment guide's roles). */
const CONTEXT: [RegExp, string][] = [
  [/^weir run --role alerts$/, 'weather-alerts'],
  [/^weir run --role serve$/, 'x-tweets-lake'],
]

/** Commands that keep running until stopped: started, given a few seconds, then stopped with SIGTERM. */
const LONG = /^(run( --role [\w ]+)?|serve|simulate|land --follow)$/

let smtp: Awaited<ReturnType<typeof startSmtp>>
const projects = new Map<string, Promise<string>>()
const env: Record<string, string> = { ...pgEnv, WEIR_PG_SCHEMA: 'doc_x' }

beforeAll(async () => {
  smtp = await startSmtp()
  env.SMTP_PORT = String(smtp.port)
  env.QUIET_FROM = '00:00'
  env.QUIET_TO = '00:00'
})
afterAll(() => smtp?.close())

/** The folder a doc's commands run in, made once: the demo's, an example's, or a `weir init` project. */
function folderFor(c: DocCommand): Promise<string> {
  const example = CONTEXT.find(([re]) => re.test(c.text))?.[1] ?? /^examples\/([\w-]+)\//.exec(c.file)?.[1]
  // One project per document, so one document's runs do not spend another's request budgets.
  const key = c.argv.includes('./demo-lake') ? 'demo' : (example ?? c.file.replace(/\W+/g, '-'))
  let made = projects.get(key)
  if (!made) {
    made = (async () => {
      const dir = join(await tempDir('weir-docs-'), key)
      if (key === 'demo') {
        await mkdir(dir)
        const r = await weir(['demo', '--lake', './demo-lake'], env, dir)
        expect(r.code, r.stderr).toBe(0)
        return dir
      }
      const init = await weir(['init', dir, ...(example ? ['--example', example] : [])], env)
      expect(init.code, init.stderr).toBe(0)
      const once = await weir(['run', '--once'], env, dir)
      expect(once.code, once.stderr).toBe(0)
      return dir
    })()
    projects.set(key, made)
  }
  return made
}

/** A free port for what listens on a fixed one by default (8080, 4010), so runs do not collide. */
async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address() as { port: number }
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

// A command printed in several documents runs once (in the first), unless an example's README prints it.
const ran = new Set<string>()
const commands = docCommands(ROOT).filter((c) => {
  if (c.program === 'weir' && !c.argv.length) return false
  if (c.file.startsWith('examples/')) return true
  if (ran.has(c.text)) return false
  ran.add(c.text)
  return true
})

describe('every command the documents print', () => {
  it('is found in the README, docs/ and the examples', () => {
    expect(commands.length).toBeGreaterThan(60)
    expect(new Set(commands.map((c) => c.file)).size).toBeGreaterThan(6)
  })

  for (const c of commands) {
    const reason = NOT_HERE.find(([re]) => re.test(c.text))?.[1]
    const name = `${c.file}: ${c.text}`
    if (reason) {
      it.skip(`${name} (${reason})`, () => undefined)
      continue
    }
    if (c.program === 'other') {
      it(`${name}: has a reason not to run here`, () => {
        expect.fail(`a command of another program is printed; run it here or give NOT_HERE a reason`)
      })
      continue
    }
    it(name, { timeout: 180_000 }, async () => {
      // Every command and flag it prints exists (a usage line is checked this way only).
      const path = c.argv
        .filter((w, i) => /^[a-z][\w-]*$/.test(w) && c.argv.slice(0, i).every((p) => !p.startsWith('-')))
        .slice(0, 2)
      const help = await weir([...path, '--help'], env)
      expect(help.code, help.stderr).toBe(0)
      // A usage line may list several subcommands (`alerts watch [--follow] | history [--rule r]`).
      let text = help.stdout
      const subs =
        /\nCommands:\n([\s\S]*?)(?:\n\n|$)/.exec((await weir([path[0]!, '--help'], env)).stdout)?.[1] ?? ''
      for (const sub of subs.matchAll(/^ {2}([a-z][\w-]*)/gm))
        if (c.argv.includes(sub[1]!)) text += (await weir([path[0]!, sub[1]!, '--help'], env)).stdout
      for (const flag of c.text.matchAll(/(?<![\w-])(--[a-z][\w-]*)/g))
        expect(text, `${flag[1]} in weir ${path.join(' ')} --help`).toContain(flag[1])
      if (c.synopsis || (c.argv.length === 1 && c.argv[0] === '--help')) return
      if (/^(init|backfill|catalog history)$/.test(c.argv.join(' '))) return // a name in prose, without its argument
      const dir = await folderFor(c)
      if (c.argv[0] === 'load' && !pgUp) return
      const argv =
        c.argv[0] === 'init'
          ? ['init', join(await tempDir('weir-docs-init-'), c.argv[1]!), ...c.argv.slice(2)]
          : [...c.argv]
      const runEnv = { ...env, ...c.env, ...(c.env.SMTP_PORT ? { SMTP_PORT: String(smtp.port) } : {}) }
      if (LONG.test(c.argv.join(' '))) {
        const port = String(await freePort())
        const extra = argv[0] === 'serve' || argv[0] === 'simulate' ? ['--port', port] : []
        const w = startWeir([...argv, ...extra], dir, { ...runEnv, WEIR_SERVE_PORT: port })
        await new Promise((r) => setTimeout(r, 2500))
        expect(w.exited(), `${w.stderr()}`).toBe(false)
        w.stop()
        const end = await w.done
        expect(end.code, end.stderr).toBe(0)
        return
      }
      const r = await weir(argv, runEnv, dir)
      expect(r.code, `${r.stderr}${r.stdout.slice(-2000)}`).toBe(0)
    })
  }
})
