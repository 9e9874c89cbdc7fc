import { describe, expect, it } from 'vitest'
import { alertsSchema } from '../../src/alerts/alerts-schema.js'
import { createEngine } from '../../src/alerts/engine.js'

const cfg = (rule: Record<string, unknown>) =>
  alertsSchema.parse({
    channels: { out: { kind: 'console' } },
    rules: { heat: { source: 'w', when: 't > 30', key: 'city', channels: ['out'], ...rule } },
  })
const rec = (city: string, t: number) => ({ city, t })
const states = (ns: { state: string; key: string }[]) => ns.map((n) => `${n.key}:${n.state}`)

describe('rule engine', () => {
  it('for a duration: pending until the condition has held that long, then firing; a dip before resets it', () => {
    const e = createEngine(cfg({ for: '10m' }))
    expect(e.onRecord('w', undefined, rec('a', 31), 0)).toEqual([])
    expect(e.onRecord('w', undefined, rec('a', 29), 5 * 60_000)).toEqual([]) // dipped: pending dropped
    expect(e.onRecord('w', undefined, rec('a', 31), 6 * 60_000)).toEqual([])
    expect(e.tick(15 * 60_000)).toEqual([])
    expect(states(e.tick(16 * 60_000))).toEqual(['a:firing'])
  })

  it('keepFiringFor: a short dip does not resolve; a long one does, once', () => {
    const e = createEngine(cfg({ keepFiringFor: '5m' }))
    expect(states(e.onRecord('w', undefined, rec('a', 31), 0))).toEqual(['a:firing'])
    expect(e.onRecord('w', undefined, rec('a', 25), 60_000)).toEqual([])
    expect(e.onRecord('w', undefined, rec('a', 32), 2 * 60_000)).toEqual([]) // back above: still the same alert
    expect(e.onRecord('w', undefined, rec('a', 25), 3 * 60_000)).toEqual([])
    expect(states(e.onRecord('w', undefined, rec('a', 24), 9 * 60_000))).toEqual(['a:resolved'])
    expect(e.tick(20 * 60_000)).toEqual([])
  })

  it('repeatInterval: reminders while firing, none after it resolved; keys are independent', () => {
    const e = createEngine(cfg({ repeatInterval: '1h', notifyResolved: false }))
    const t0 = Date.now()
    expect(states(e.onRecord('w', undefined, rec('a', 31), t0))).toEqual(['a:firing'])
    expect(states(e.onRecord('w', undefined, rec('b', 35), t0))).toEqual(['b:firing'])
    expect(e.tick(t0 + 30 * 60_000)).toEqual([])
    expect(states(e.tick(t0 + 61 * 60_000))).toEqual(['a:reminder', 'b:reminder'])
    expect(e.onRecord('w', undefined, rec('a', 20), t0 + 62 * 60_000)).toEqual([]) // resolved, not notified
    expect(states(e.tick(t0 + 125 * 60_000))).toEqual(['b:reminder'])
  })

  it('state survives a restart: a new engine on the saved state does not fire again', () => {
    const e = createEngine(cfg({}))
    e.onRecord('w', undefined, rec('a', 31), 0)
    const again = createEngine(cfg({}), JSON.parse(JSON.stringify(e.state)))
    expect(again.onRecord('w', undefined, rec('a', 33), 1000)).toEqual([])
    expect(states(again.onRecord('w', undefined, rec('a', 10), 2000))).toEqual(['a:resolved'])
  })
})
