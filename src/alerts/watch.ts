import { randomUUID } from 'node:crypto'
import { ALERT_EVENTS } from '../catalog/views.js'
import { sleep, utcParts } from '../core/time.js'
import type { StateStore } from '../state/state.js'
import { joinKey, type ObjectStore } from '../storage/storage.js'
import type { Stream } from '../stream/stream.js'
import type { AlertsConfig } from './alerts-schema.js'
import type { Channel, Message } from './channels/channel.js'
import { createChannel } from './channels/registry.js'
import { type Counters, group, send, windowOpen } from './deliver.js'
import { createEngine, type EngineState, type Notification } from './engine.js'

/** One row of `weir.alerts`: what happened to one alert on one channel. */
export interface AlertEvent {
  readonly at: string
  readonly rule: string
  readonly key: string
  readonly state: string
  /** sent, failed, dry-run, rate-limited, capped, held, silenced. */
  readonly outcome: string
  readonly channel: string | null
  readonly attempts: number
  readonly digest: boolean
  readonly subject: string
  readonly values: string
  readonly error: string | null
}

export interface Silence {
  readonly rule: string
  readonly key?: string
  readonly until: string
}

interface SavedState {
  readonly engine: EngineState
  readonly held: readonly Notification[]
  readonly outbox: readonly Message[]
  readonly counters: Counters
}

export interface WatchOptions {
  readonly group?: string
  /** Keep watching until `signal` aborts; otherwise return once the stream is read. */
  readonly follow?: boolean
  readonly signal?: AbortSignal
  /** Called for every alert event as it is recorded. */
  readonly onEvent?: (e: AlertEvent) => void
  /** How often time-based rules are checked while the stream is quiet (default 250 ms). */
  readonly tickMs?: number
  /** The clock of delivery windows and time-based rules (tests set the hour). */
  readonly now?: () => number
}

/**
 * Alerts as a consumer group of their own: records are evaluated by the rules, notifications are
 * grouped per channel, held outside their delivery window (then sent as one digest), and delivered
 * with retries, rate limits and caps. The engine's state, the held alerts and the messages about to
 * be sent are saved before the stream offsets are committed, and every outcome is appended to
 * `_alerts/events/` (`select * from weir.alerts`): a restart neither loses nor repeats an alert.
 */
export async function watchAlerts(
  stream: Stream,
  store: ObjectStore,
  state: StateStore,
  config: AlertsConfig,
  opts: WatchOptions = {},
): Promise<{ records: number; events: number; failed: number; lastError?: string }> {
  const groupName = opts.group ?? 'alerts'
  const doc = `alerts/${groupName}/state`
  const saved = await state.get<SavedState>(doc)
  const engine = createEngine(config, saved?.engine)
  let held: Notification[] = [...(saved?.held ?? [])]
  const outbox: Message[] = [...(saved?.outbox ?? [])]
  const counters: Counters = { ...(saved?.counters ?? {}) }
  const channels = channelCache(config)
  const channel = channels.get
  const topics = [...new Set(Object.values(config.rules).map((r) => r.source))]
  const consumer = topics.length ? await stream.consumer(groupName, topics) : undefined
  const windowOf = (rule: string) => config.rules[rule]?.window ?? config.window
  const total: { records: number; events: number; failed: number; lastError?: string } = {
    records: 0,
    events: 0,
    failed: 0,
  }
  const tickMs = opts.tickMs ?? 250

  const save = () => state.put(doc, { engine: engine.state, held, outbox, counters } satisfies SavedState)
  const record = async (events: AlertEvent[]) => {
    if (!events.length) return
    await writeEvents(store, events)
    total.events += events.length
    for (const e of events) opts.onEvent?.(e)
  }
  const failed = (alerts: number, error: string) => {
    total.failed += alerts
    total.lastError = error
  }
  const deliver = () => deliverOutbox(outbox, config, channel, counters, { record, failed, save })

  try {
    // Messages saved but not sent before a stop or a crash go first.
    await deliver()
    for (;;) {
      const batch = consumer && !opts.signal?.aborted ? await consumer.poll({ maxRecords: 1000 }) : []
      const now = (opts.now ?? Date.now)()
      const notifications = batch.flatMap((d) => {
        const data = parse(d.value)
        return data === UNREADABLE ? [] : engine.onRecord(d.topic, d.headers.resource, data, d.timestamp)
      })
      notifications.push(...engine.tick(now))
      total.records += batch.length

      const silences = await activeSilences(state, now)
      const open = (n: Notification) => windowOpen(windowOf(n.rule), config.timeZone, new Date(now))
      const t = triage(notifications, held, silences, open)
      const { events, ready, due } = t
      held = t.held
      outbox.push(...group(ready), ...group(due, true))
      if (batch.length || notifications.length || due.length) {
        await save()
        await record(events)
        if (consumer && batch.length) await consumer.commit(consumer.position())
      }
      await deliver()
      if (!opts.follow && batch.length === 0) break
      if (opts.signal?.aborted) break
      if (batch.length === 0) await sleep(tickMs, opts.signal)
    }
  } finally {
    await save()
    await consumer?.close()
    await channels.closeAll()
  }
  return total
}

/** One line of the alert history. */
function alertEvent(n: Notification, outcome: string, extra: Partial<AlertEvent> = {}): AlertEvent {
  return {
    at: new Date(n.at).toISOString(),
    rule: n.rule,
    key: n.key,
    state: n.state,
    outcome,
    channel: null,
    attempts: 0,
    digest: false,
    subject: n.subject,
    values: JSON.stringify(n.values),
    error: null,
    ...extra,
  }
}

/** Appends events to `_alerts/events/yyyy/mm/dd/` (read as `weir.alerts`). */
async function writeEvents(store: ObjectStore, events: readonly AlertEvent[]): Promise<void> {
  const { yyyy, mm, dd } = utcParts(new Date())
  const name = `${new Date().toISOString().replace(/[:.]/g, '')}-${randomUUID().slice(0, 8)}.ndjson`
  await store.put(
    joinKey(ALERT_EVENTS, yyyy, mm, dd, name),
    `${events.map((e) => JSON.stringify(e)).join('\n')}\n`,
  )
}

/**
 * What becomes of each notification: silenced, sent now (its window is open) or held for a digest;
 * and the held ones whose window has opened, due now as one digest per channel.
 */
export function triage(
  notifications: readonly Notification[],
  held: readonly Notification[],
  silences: readonly Silence[],
  windowIsOpen: (n: Notification) => boolean,
): { events: AlertEvent[]; ready: Notification[]; due: Notification[]; held: Notification[] } {
  const events: AlertEvent[] = []
  const ready: Notification[] = []
  const stillHeld = held.filter((n) => !windowIsOpen(n))
  const due = held.filter((n) => windowIsOpen(n))
  for (const n of notifications) {
    if (silences.some((s) => s.rule === n.rule && (s.key === undefined || s.key === n.key)))
      events.push(alertEvent(n, 'silenced'))
    else if (windowIsOpen(n)) ready.push(n)
    else {
      stillHeld.push(n)
      events.push(alertEvent(n, 'held'))
    }
  }
  return { events, ready, due, held: stillHeld }
}

/**
 * Sends the outbox in order, each message recorded (and the outbox saved) before the next: a
 * message is taken off only once its outcome is in the alert history.
 */
async function deliverOutbox(
  outbox: Message[],
  config: AlertsConfig,
  channel: (name: string) => Channel,
  counters: Counters,
  on: {
    record(events: AlertEvent[]): Promise<void>
    failed(alerts: number, error: string): void
    save(): Promise<void>
  },
): Promise<void> {
  while (outbox.length) {
    const m = outbox[0]!
    const cfg = config.channels[m.channel]
    const out = cfg
      ? await send(m, channel(m.channel), cfg, counters)
      : { outcome: 'failed' as const, attempts: 0, error: `no channel ${m.channel} in the config` }
    await on.record(
      m.alerts.map((n) =>
        alertEvent(n, out.outcome, {
          channel: m.channel,
          attempts: out.attempts,
          digest: m.digest,
          error: out.error ?? null,
        }),
      ),
    )
    // Set down in the alert history; the run says so too, so a failure is never a success.
    if (out.outcome === 'failed') on.failed(m.alerts.length, `${m.channel}: ${out.error ?? 'failed'}`)
    outbox.shift()
    await on.save()
  }
}

/** Channels built on first use, one per name, closed together. */
function channelCache(config: AlertsConfig) {
  const channels = new Map<string, Channel>()
  return {
    get(name: string): Channel {
      let c = channels.get(name)
      if (!c) {
        c = createChannel(name, config.channels[name]!)
        channels.set(name, c)
      }
      return c
    },
    async closeAll(): Promise<void> {
      for (const c of channels.values()) await c.close().catch(() => undefined)
    },
  }
}

const UNREADABLE = Symbol('unreadable')

/** A record's data; landing sets unreadable records aside, alerts only skip them. */
function parse(value: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(value).toString('utf8'))
  } catch {
    return UNREADABLE
  }
}

async function activeSilences(state: StateStore, now: number): Promise<Silence[]> {
  const saved = (await state.get<{ silences: Silence[] }>('alerts/silences'))?.silences ?? []
  return saved.filter((s) => Date.parse(s.until) > now)
}
