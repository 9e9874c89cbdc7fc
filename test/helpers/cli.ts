import { spawn } from 'node:child_process'
import { resolve } from 'node:path'

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const BIN = resolve('bin/weir.js')

/** Runs the built `weir` CLI as a user would (`npm test` builds it first). */
export async function weir(
  args: readonly string[],
  env: Record<string, string> = {},
  cwd?: string,
): Promise<CliResult> {
  const r = await startWeir(args, cwd ?? process.cwd(), env).done
  return { code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr }
}

/** The per-table counts the demo printed under "tables (records produced)". */
export function demoCounts(stdout: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const m of stdout.matchAll(/^\s+trusted\.(\w+)\s+(\d+)$/gm)) out[m[1]!] = Number(m[2])
  return out
}

/** Starts `weir` in the background (a long-running command): `stop` sends SIGTERM, `done` is how it ended. */
export function startWeir(args: readonly string[], cwd: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => {
    stdout += d
  })
  child.stderr.on('data', (d) => {
    stderr += d
  })
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>(
    (r) => child.on('close', (code, signal) => r({ code, signal, stdout, stderr })),
  )
  return {
    stop: () => child.kill('SIGTERM'),
    kill: (signal: NodeJS.Signals) => child.kill(signal),
    exited: () => child.exitCode !== null || child.signalCode !== null,
    done,
    stdout: () => stdout,
    stderr: () => stderr,
  }
}
