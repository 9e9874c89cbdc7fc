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
  let outbox: Message[] = [...(saved?.outbox ?? [])]
  const counters: Counters = { ...(saved?.counters ?? {}) }
  const channels = new Map<string, Channel>()
  const channel = (name: string) => {
    let c = channels.get(name)
    if (!c) {
      c = createChannel(name, config.channels[name]!)
      channels.set(name, c)
    }
    return c
  }
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
    const { yyyy, mm, dd } = utcParts(new Date())
    const key = joinKey(
      ALERT_EVENTS,
      yyyy,
      mm,
      dd,
      `${new Date().toISOString().replace(/[:.]/g, '')}-${randomUUID().slice(0, 8)}.ndjson`,
    )
    await store.put(key, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`)
    total.events += events.length
    for (const e of events) opts.onEvent?.(e)
  }
  const event = (n: Notification, outcome: string, extra: Partial<AlertEvent> = {}): AlertEvent => ({
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
  })

  try {
    // Messages saved but not sent before a stop or a crash go first.
    await deliver()
    for (;;) {
      const batch = consumer && !opts.signal?.aborted ? await consumer.poll({ maxRecords: 1000 }) : []
      const now = (opts.now ?? Date.now)()
      const notifications: Notification[] = []
      for (const d of batch) {
        let data: unknown
        try {
          data = JSON.parse(Buffer.from(d.value).toString('utf8'))
        } catch {
          continue // landing sets unreadable records aside; alerts only skip them
        }
        notifications.push(...engine.onRecord(d.topic, d.headers.resource, data, d.timestamp))
      }
      notifications.push(...engine.tick(now))
      total.records += batch.length

      const silences = ((await state.get<{ silences: Silence[] }>('alerts/silences'))?.silences ?? []).filter(
        (s) => Date.parse(s.until) > now,
      )
      const events: AlertEvent[] = []
      const ready: Notification[] = []
      for (const n of notifications) {
        if (silences.some((s) => s.rule === n.rule && (s.key === undefined || s.key === n.key)))
          events.push(event(n, 'silenced'))
        else if (windowOpen(windowOf(n.rule), config.timeZone, new Date(now))) ready.push(n)
        else {
          held.push(n)
          events.push(event(n, 'held'))
        }
      }
      // Held alerts whose window has opened go out together, as one digest per channel.
      const due = held.filter((n) => windowOpen(windowOf(n.rule), config.timeZone, new Date(now)))
      if (due.length) held = held.filter((n) => !due.includes(n))
      outbox = [...outbox, ...group(ready), ...group(due, true)]
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
    for (const c of channels.values()) await c.close().catch(() => undefined)
  }
  return total

  async function deliver(): Promise<void> {
    while (outbox.length) {
      const m = outbox[0]!
      const cfg = config.channels[m.channel]
      const out = cfg
        ? await send(m, channel(m.channel), cfg, counters)
        : { outcome: 'failed' as const, attempts: 0, error: `no channel ${m.channel} in the config` }
      await record(
        m.alerts.map((n) =>
          event(n, out.outcome, {
            channel: m.channel,
            attempts: out.attempts,
            digest: m.digest,
            error: out.error ?? null,
          }),
        ),
      )
      if (out.outcome === 'failed') {
        // Set down in the alert history; the run says so too, so a failure is never a success.
        total.failed += m.alerts.length
        total.lastError = `${m.channel}: ${out.error ?? 'failed'}`
      }
      outbox = outbox.slice(1)
      await save()
    }
  }
}
