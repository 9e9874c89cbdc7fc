import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'

/**
 * Who a process is, well enough to tell later whether it is still running: its host, its pid, and
 * when it started (a pid alone is reused; after a restart a container's Weir is often pid 1 again).
 */
export interface ProcessIdentity {
  readonly host: string
  readonly pid: number
  /** Milliseconds since the epoch, to the clock tick (Linux) or the millisecond (elsewhere). */
  readonly started: number
}

let self: ProcessIdentity | undefined

/**
 * This process.
 *
 * @example const me = thisProcess() // { host: 'box', pid: 4242, started: 1764658800000 }
 */
export function thisProcess(): ProcessIdentity {
  self ??= { host: hostname(), pid: process.pid, started: startedAt(process.pid) ?? Date.now() }
  return self
}

/**
 * Whether the process named is surely gone: only a process of this host can be judged (`false`
 * for another host's, which may be alive). Gone means no such pid, or a pid now held by a process
 * that started at another time.
 */
export function isGone(p: ProcessIdentity): boolean {
  const me = thisProcess()
  if (p.host !== me.host) return false
  if (p.pid === me.pid) return p.started !== me.started && Math.abs(p.started - me.started) > 1_000
  try {
    process.kill(p.pid, 0)
  } catch (err) {
    // EPERM: alive, another user's.
    return (err as NodeJS.ErrnoException).code === 'ESRCH'
  }
  const started = startedAt(p.pid)
  // A tick is 10 ms; an identity recorded without /proc used Date.now() at start-up, within a second.
  return started !== undefined && Math.abs(started - p.started) > 1_000
}

/** One line for messages: `pid 4242 on box, started 2026-12-02T07:19:37Z`. */
export function describeProcess(p: ProcessIdentity): string {
  return `pid ${p.pid} on ${p.host}, started ${new Date(p.started).toISOString().replace(/\.\d+Z$/, 'Z')}`
}

let boot: number | undefined

/** A process's start time from /proc (Linux): its start in clock ticks after boot, plus the boot time. */
function startedAt(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[19])
    boot ??= Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]) * 1000
    if (!Number.isFinite(ticks) || !Number.isFinite(boot)) return undefined
    // USER_HZ is 100 on every Linux build Node supports.
    return boot + ticks * 10
  } catch {
    return undefined
  }
}
