import { connect } from 'node:net'
import type { LoadedConfig } from '../config/load.js'
import { errorMessage } from '../core/errors.js'
import { maskUri } from '../core/redact.js'
import type { DoctorCheck } from './doctor.js'

/** How long one server may take to answer. */
export const TIMEOUT_MS = 5_000

/** Every server the config names answers: the warehouse (a query), source APIs and alert channels (a connection). */
export async function serversCheck({ config }: LoadedConfig): Promise<DoctorCheck> {
  const targets: [string, string][] = []
  for (const [name, s] of Object.entries(config.sources)) {
    const url = (s as { baseUrl?: string }).baseUrl
    if (url && /^https?:\/\//.test(url)) targets.push([`source ${name}`, url])
  }
  for (const [name, c] of Object.entries(config.alerts?.channels ?? {})) {
    const ch = c as { kind: string; url?: string; host?: string; port?: number }
    if (ch.kind === 'webhook' && ch.url) targets.push([`channel ${name}`, ch.url])
    if (ch.kind === 'email' && ch.host)
      targets.push([`channel ${name}`, `smtp://${ch.host}:${ch.port ?? 587}`])
  }
  const failed: string[] = []
  const pg = config.warehouse?.postgres
  if (pg) {
    const { default: pgLib } = await import('pg')
    const client = new pgLib.Client({
      ...(pg.url ? { connectionString: pg.url } : {}),
      connectionTimeoutMillis: TIMEOUT_MS,
    })
    // A connection the server drops after the check would be an unhandled 'error' event: a crash.
    client.on('error', () => {})
    try {
      await client.connect()
      await client.query('select 1')
    } catch (err) {
      failed.push(`warehouse postgres: ${errorMessage(err)}`)
    } finally {
      await client.end().catch(() => {})
    }
  }
  for (const [what, url] of targets) {
    const err = await reach(url)
    if (err) failed.push(`${what} ${maskUri(url)}: ${err}`)
  }
  const n = targets.length + (pg ? 1 : 0)
  if (failed.length)
    return {
      check: 'servers',
      status: 'fail',
      detail: failed.join('; '),
      fix: 'start the server or correct its address in the config (a firewall or VPN may be in the way)',
    }
  return { check: 'servers', status: 'pass', detail: n ? `${n} reachable` : 'none configured' }
}

/** undefined when a TCP connection to the URL's host and port opens. */
function reach(url: string): Promise<string | undefined> {
  const u = new URL(url)
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80))
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname, port, timeout: TIMEOUT_MS })
    const done = (why?: string) => {
      socket.destroy()
      resolve(why)
    }
    socket.once('connect', () => done())
    socket.once('timeout', () => done(`no answer in ${TIMEOUT_MS / 1000} s`))
    socket.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message))
  })
}
