import { sleep } from '../core/time.js'
import { parseDuration } from '../core/units.js'
import type { AlertsConfig } from './alerts-schema.js'
import type { Channel, Message } from './channels/channel.js'
import type { Notification } from './engine.js'

type Window = NonNullable<AlertsConfig['window']>
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const

/** Whether notifications may go out at `at` under a window (quiet hours, active hours), in its zone. */
export function windowOpen(window: Window | undefined, timeZone: string, at: Date): boolean {
  if (!window) return true
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: window.timeZone ?? timeZone,
    hour: '2-digit',
    minute: '2-digit',
    weekday: 'short',
    hourCycle: 'h23',
  }).formatToParts(at)
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? ''
  const minutes = Number(get('hour')) * 60 + Number(get('minute'))
  const day = get('weekday').slice(0, 3).toLowerCase()
  const inside = (from: string, to: string) => {
    const f = toMinutes(from)
    const t = toMinutes(to)
    return f <= t ? minutes >= f && minutes < t : minutes >= f || minutes < t
  }
  if (window.quiet && inside(window.quiet.from, window.quiet.to)) return false
  if (window.active) {
    if (window.active.days && !window.active.days.includes(day as (typeof DAYS)[number])) return false
    if (!inside(window.active.from, window.active.to)) return false
  }
  return true
}

function toMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number)
  return h! * 60 + m!
}

/**
 * One message per channel for the notifications of one moment (simultaneous alerts are grouped),
 * or, for held ones, one digest per channel.
 */
export function group(notifications: readonly Notification[], digest = false): Message[] {
  const byChannel = new Map<string, Notification[]>()
  for (const n of notifications)
    for (const c of n.channels) byChannel.set(c, [...(byChannel.get(c) ?? []), n])
  return [...byChannel].map(([channel, alerts]) => {
    const subject = digest
      ? `Digest: ${alerts.length} alert${alerts.length === 1 ? '' : 's'} held during quiet hours`
      : alerts.length === 1
        ? alerts[0]!.subject
        : `${alerts.length} alerts: ${alerts.map((a) => `${a.rule}${a.key ? ` (${a.key})` : ''} ${a.state}`).join(', ')}`
    const text = alerts
      .map((a) => (alerts.length === 1 && !digest ? a.body : `${a.subject}\n${a.body}`))
      .join('\n\n')
    return { channel, subject, text, alerts, digest }
  })
}

/** Per channel: messages sent today and recently, for its daily cap and rate limit (saved with the state). */
export type Counters = Record<string, { day: string; sent: number; recent: number[] }>

export interface DeliveryOutcome {
  readonly outcome: 'sent' | 'failed' | 'dry-run' | 'rate-limited' | 'capped'
  readonly attempts: number
  readonly error?: string
}

/**
 * Sends one message through its channel: within its daily cap and rate limit (a message beyond them
 * is recorded, not sent), with retries (backoff from 500 ms), or only recorded when `dryRun`.
 */
export async function send(
  message: Message,
  channel: Channel,
  cfg: AlertsConfig['channels'][string],
  counters: Counters,
  now = Date.now(),
  wait: (ms: number) => Promise<void> = sleep,
): Promise<DeliveryOutcome> {
  const day = new Date(now).toISOString().slice(0, 10)
  const c = counters[message.channel]?.day === day ? counters[message.channel]! : { day, sent: 0, recent: [] }
  counters[message.channel] = c
  if (cfg.dailyCap !== undefined && c.sent >= cfg.dailyCap) return { outcome: 'capped', attempts: 0 }
  if (cfg.rateLimit) {
    const per = parseDuration(cfg.rateLimit.per)
    c.recent = c.recent.filter((t) => now - t < per)
    if (c.recent.length >= cfg.rateLimit.count) return { outcome: 'rate-limited', attempts: 0 }
  }
  if (cfg.dryRun) return { outcome: 'dry-run', attempts: 0 }
  let attempts = 0
  for (;;) {
    attempts++
    try {
      await channel.send(message)
      c.sent++
      c.recent.push(now)
      return { outcome: 'sent', attempts }
    } catch (err) {
      if (attempts > cfg.retries) return { outcome: 'failed', attempts, error: (err as Error).message }
      await wait(500 * 2 ** (attempts - 1))
    }
  }
}
