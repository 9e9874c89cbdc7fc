import { compileExpr, type Expr, evaluate, toFunction, truthy, type Value } from '../core/expr.js'
import { parseDuration } from '../core/units.js'
import type { AlertsConfig, RuleConfig } from './alerts-schema.js'

/** What a rule says about one key at one moment. */
export interface Notification {
  readonly rule: string
  readonly key: string
  /** firing (new), reminder (still firing), resolved. */
  readonly state: 'firing' | 'reminder' | 'resolved'
  readonly at: number
  readonly subject: string
  readonly body: string
  readonly labels: Readonly<Record<string, string>>
  /** The record that made the decision (for a no-data rule: when data was last seen). */
  readonly values: unknown
  readonly channels: readonly string[]
}

interface KeyState {
  status: 'pending' | 'firing'
  /** When the condition started holding (pending) or the alert fired. */
  since: number
  /** Consecutive matching records. */
  count: number
  lastNotified: number
  /** While firing: when the condition stopped holding (for keepFiringFor). */
  falseSince?: number
  values: unknown
}

/** Everything the engine must remember across restarts (saved in the lake's state). */
export interface EngineState {
  readonly alerts: Record<string, KeyState>
  /** Last record seen per source (and source/resource), ms. */
  readonly lastSeen: Record<string, number>
}

interface Rule {
  readonly name: string
  readonly cfg: RuleConfig
  readonly expr?: Expr
  readonly when?: (record: unknown) => Value
  readonly keyOf?: (record: unknown) => Value
  readonly forMs?: number
  readonly forRecords?: number
  readonly keepMs: number
  readonly repeatMs?: number
  readonly noDataMs?: number
}

/**
 * The rule engine: per rule and key, inactive → pending (while `for` is not met) → firing →
 * resolved, with `keepFiringFor` and `repeatInterval`; no-data rules fire when a source has been
 * silent too long. It decides; delivery is someone else's. Its state is plain data, saved with the
 * consumer's offsets so a restart neither loses nor repeats a notification.
 */
export function createEngine(config: AlertsConfig, saved?: EngineState) {
  const rules: Rule[] = Object.entries(config.rules).map(([name, cfg]) => ({
    name,
    cfg,
    ...(cfg.when ? { expr: compileExpr(cfg.when), when: toFunction(compileExpr(cfg.when)) } : {}),
    ...(cfg.key ? { keyOf: toFunction({ t: 'path', p: cfg.key.split('.') }) } : {}),
    ...(cfg.for !== undefined
      ? typeof cfg.for === 'object'
        ? { forRecords: cfg.for.records }
        : { forMs: parseDuration(cfg.for) }
      : {}),
    keepMs: cfg.keepFiringFor !== undefined ? parseDuration(cfg.keepFiringFor) : 0,
    ...(cfg.repeatInterval !== undefined ? { repeatMs: parseDuration(cfg.repeatInterval) } : {}),
    ...(cfg.noData !== undefined ? { noDataMs: parseDuration(cfg.noData) } : {}),
  }))
  const bySource = new Map<string, Rule[]>()
  for (const r of rules) if (r.expr) bySource.set(r.cfg.source, [...(bySource.get(r.cfg.source) ?? []), r])
  const state: EngineState = {
    alerts: { ...(saved?.alerts ?? {}) },
    lastSeen: { ...(saved?.lastSeen ?? {}) },
  }
  const started = Date.now()
  /** Open (pending or firing) alerts per rule. */
  const active = new Map<string, number>()
  for (const id of Object.keys(state.alerts)) {
    const rule = id.split('\u0000')[0]!
    active.set(rule, (active.get(rule) ?? 0) + 1)
  }
  const open = (id: string, s: KeyState) => {
    if (!state.alerts[id]) active.set(id.split('\u0000')[0]!, (active.get(id.split('\u0000')[0]!) ?? 0) + 1)
    state.alerts[id] = s
  }
  const close = (id: string) => {
    if (!state.alerts[id]) return
    delete state.alerts[id]
    const rule = id.split('\u0000')[0]!
    active.set(rule, (active.get(rule) ?? 1) - 1)
  }

  const notify = (
    r: Rule,
    key: string,
    kind: Notification['state'],
    at: number,
    values: unknown,
  ): Notification => {
    const ctx = { ...(isObject(values) ? values : {}), rule: r.name, key, state: kind, labels: r.cfg.labels }
    const subject = r.cfg.subject
      ? render(r.cfg.subject, ctx)
      : `[${kind === 'resolved' ? 'RESOLVED' : 'FIRING'}] ${r.name}${key ? ` (${key})` : ''}`
    const when = r.cfg.when ? `when ${r.cfg.when}` : `no data from ${r.cfg.source} for ${r.cfg.noData}`
    const body = r.cfg.body
      ? render(r.cfg.body, ctx)
      : `${r.name}${key ? ` for ${key}` : ''} is ${kind === 'resolved' ? 'resolved' : 'firing'} (${when}) at ${new Date(at).toISOString()}\n${JSON.stringify(values)}`
    return {
      rule: r.name,
      key,
      state: kind,
      at,
      subject,
      body,
      labels: r.cfg.labels,
      values,
      channels: r.cfg.channels,
    }
  }

  return {
    state,
    /** A record of `source`/`resource` at time `at` (its publish time): the notifications it causes. */
    onRecord(source: string, resource: string | undefined, record: unknown, at: number): Notification[] {
      state.lastSeen[source] = Math.max(state.lastSeen[source] ?? 0, at)
      const out: Notification[] = []
      for (const r of bySource.get(source) ?? []) {
        if (r.cfg.resource && r.cfg.resource !== resource) continue
        const matches = truthy(r.when!(record))
        // Most records match most rules not at all, and most rules have no alert open: nothing to do.
        if (!matches && !active.get(r.name)) continue
        const key = r.keyOf ? String(r.keyOf(record) ?? '') : ''
        const id = `${r.name}\u0000${key}`
        const s = state.alerts[id]
        if (!matches && !s) continue
        if (matches) {
          if (!s) {
            const fresh: KeyState = {
              status: 'pending',
              since: at,
              count: 1,
              lastNotified: 0,
              values: record,
            }
            open(id, fresh)
            if (met(r, fresh, at)) out.push(fire(r, key, fresh, at, record))
          } else {
            s.count++
            s.values = record
            delete s.falseSince
            if (s.status === 'pending' && met(r, s, at)) out.push(fire(r, key, s, at, record))
          }
        } else if (s) {
          if (s.status === 'pending') close(id)
          else {
            s.falseSince ??= at
            s.values = record
            if (at - s.falseSince >= r.keepMs) {
              close(id)
              if (r.cfg.notifyResolved) out.push(notify(r, key, 'resolved', at, record))
            }
          }
        }
      }
      return out
    },
    /** Time passing: pending alerts whose `for` is met, keepFiringFor ending, reminders, no-data rules. */
    tick(now: number): Notification[] {
      const out: Notification[] = []
      for (const r of rules) {
        if (r.noDataMs !== undefined) {
          const id = `${r.name}\u0000`
          const last = state.lastSeen[r.cfg.source] ?? started
          const silent = now - last >= r.noDataMs
          const s = state.alerts[id]
          if (silent && !s) {
            open(id, {
              status: 'firing',
              since: now,
              count: 0,
              lastNotified: now,
              values: { lastSeen: new Date(last).toISOString() },
            })
            out.push(notify(r, '', 'firing', now, { lastSeen: new Date(last).toISOString() }))
          } else if (!silent && s) {
            close(id)
            if (r.cfg.notifyResolved)
              out.push(notify(r, '', 'resolved', now, { lastSeen: new Date(last).toISOString() }))
          }
        }
      }
      for (const [id, s] of Object.entries(state.alerts)) {
        const [name = '', key = ''] = id.split('\u0000')
        const r = rules.find((x) => x.name === name)
        if (!r) {
          close(id) // a rule removed from the config
          continue
        }
        if (r.noDataMs !== undefined) {
          if (s.status === 'firing' && r.repeatMs !== undefined && now - s.lastNotified >= r.repeatMs) {
            s.lastNotified = now
            out.push(notify(r, key, 'reminder', now, s.values))
          }
          continue
        }
        if (s.status === 'pending' && r.forMs !== undefined && now - s.since >= r.forMs)
          out.push(fire(r, key, s, now, s.values))
        else if (s.status === 'firing' && s.falseSince !== undefined && now - s.falseSince >= r.keepMs) {
          close(id)
          if (r.cfg.notifyResolved) out.push(notify(r, key, 'resolved', now, s.values))
        } else if (
          s.status === 'firing' &&
          s.falseSince === undefined &&
          r.repeatMs !== undefined &&
          now - s.lastNotified >= r.repeatMs
        ) {
          s.lastNotified = now
          out.push(notify(r, key, 'reminder', now, s.values))
        }
      }
      return out
    },
    /** Whether a record would match a rule, and what it would send (`weir alerts test`). */
    test(ruleName: string, record: unknown): { matches: boolean; notification?: Notification } {
      const r = rules.find((x) => x.name === ruleName)
      if (!r?.expr) return { matches: false }
      const matches = truthy(evaluate(r.expr, record))
      const key = r.cfg.key ? String(evaluate({ t: 'path', p: r.cfg.key.split('.') }, record) ?? '') : ''
      return matches ? { matches, notification: notify(r, key, 'firing', Date.now(), record) } : { matches }
    },
  }

  function fire(r: Rule, key: string, s: KeyState, at: number, values: unknown): Notification {
    s.status = 'firing'
    s.since = at
    s.lastNotified = at
    return notify(r, key, 'firing', at, values)
  }
}

function met(r: Rule, s: KeyState, at: number): boolean {
  if (r.forRecords !== undefined) return s.count >= r.forRecords
  if (r.forMs !== undefined) return at - s.since >= r.forMs
  return true
}

/** `{{ data.values.temperature }}` → the field's value (`{{ rule }}`, `{{ key }}`, `{{ state }}` too). */
export function render(template: string, ctx: unknown): string {
  return template.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}/g, (_, path: string) => {
    const v = evaluate({ t: 'path', p: path.split('.') }, ctx)
    return v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)
  })
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

export type RuleEngine = ReturnType<typeof createEngine>
