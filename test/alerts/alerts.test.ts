import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AlertsConfig, alertsSchema } from '../../src/alerts/alerts-schema.js'
import { watchAlerts } from '../../src/alerts/watch.js'
import { attachLake } from '../../src/catalog/views.js'
import { createEngine } from '../../src/engine/engine.js'
import { createStateStore } from '../../src/state/state.js'
import { scratchLake } from '../helpers/lake.js'
import { reading, signature, startReceiver, startSmtp } from './helpers.js'

let smtp: Awaited<ReturnType<typeof startSmtp>>
beforeAll(async () => {
  smtp = await startSmtp()
})
afterAll(async () => smtp.close())

const config = (
  hook: string,
  extra: Record<string, unknown> = {},
  rule: Record<string, unknown> = {},
): AlertsConfig =>
  alertsSchema.parse({
    timeZone: 'America/Toronto',
    channels: {
      mail: {
        kind: 'email',
        host: '127.0.0.1',
        port: smtp.port,
        from: 'weir@example.com',
        to: ['oncall@example.com'],
      },
      hook: { kind: 'webhook', url: hook, secret: 'hmac-key', retries: 2 },
    },
    rules: {
      heat: {
        source: 'weather',
        resource: 'realtime',
        when: 'data.values.temperature > 30',
        key: 'location.name',
        repeatInterval: '1h',
        channels: ['mail', 'hook'],
        subject: 'Heat in {{ location.name }}: {{ data.values.temperature }} C',
        body: '{{ rule }} is {{ state }} for {{ key }}: {{ data.values.temperature }} C at {{ data.time }}',
        ...rule,
      },
    },
    ...extra,
  })

describe('alerts', () => {
  it('threshold crossings notify email and a signed webhook exactly once each; repeats are suppressed; a resolved notice follows', async () => {
    const hook = await startReceiver()
    const { stream, store } = await scratchLake()
    const state = createStateStore(store)
    const cfg = config(hook.url)
    const before = smtp.mails.length
    const step = async (...records: ReturnType<typeof reading>[]) => {
      await stream.publish('weather', records)
      await watchAlerts(stream, store, state, cfg)
    }
    await step(reading('toronto', 25)) // below: nothing
    await step(reading('toronto', 31)) // fires
    await step(reading('toronto', 33), reading('toronto', 34)) // still firing: suppressed within repeatInterval
    await step(reading('lisbon', 35)) // another key fires
    await step(reading('toronto', 20)) // resolved
    const mails = smtp.mails.slice(before)
    expect(mails.map((m) => m.subject)).toEqual([
      'Heat in toronto: 31 C',
      'Heat in lisbon: 35 C',
      'Heat in toronto: 20 C', // the resolved notice, rendered with the record that resolved it
    ])
    expect(mails[0]!.text.trim()).toBe('heat is firing for toronto: 31 C at 2026-11-22T10:00:00Z')
    expect(mails[2]!.text.trim()).toBe('heat is resolved for toronto: 20 C at 2026-11-22T10:00:00Z')
    expect(mails[0]!.to).toEqual(['oncall@example.com'])
    expect(hook.requests).toHaveLength(3)
    for (const r of hook.requests) expect(r.headers['x-weir-signature']).toBe(signature('hmac-key', r.body))
    const first = JSON.parse(hook.requests[0]!.body) as {
      subject: string
      alerts: { rule: string; key: string; state: string }[]
    }
    expect(first).toMatchObject({
      subject: 'Heat in toronto: 31 C',
      alerts: [{ rule: 'heat', key: 'toronto', state: 'firing' }],
    })
    // Every delivery is in the history, queryable.
    const q = await createEngine()
    await attachLake(q, store)
    const events = await q.query(
      'select key, state, outcome, channel from weir.alerts order by "at", channel, key',
    )
    expect(events.rows.filter((e) => e.outcome === 'sent')).toHaveLength(6)
    await q.close()
    await hook.close()
  })

  it('during quiet hours nothing is sent; when the window opens, one digest carries every held alert', async () => {
    const hook = await startReceiver()
    const { stream, store } = await scratchLake()
    const state = createStateStore(store)
    // (No reminders: this test moves the clock by hours.)
    const cfg = config(
      hook.url,
      { window: { quiet: { from: '22:00', to: '07:00' } } },
      { repeatInterval: undefined },
    )
    const before = smtp.mails.length
    const night = () => Date.parse('2026-11-23T04:00:00Z') // 23:00 in Toronto
    await stream.publish('weather', [reading('toronto', 31), reading('lisbon', 36), reading('phoenix', 40)])
    await watchAlerts(stream, store, state, cfg, { now: night })
    expect(smtp.mails.length).toBe(before)
    expect(hook.requests).toHaveLength(0)
    const morning = () => Date.parse('2026-11-23T12:05:00Z') // 07:05 in Toronto
    await watchAlerts(stream, store, state, cfg, { now: morning })
    const mails = smtp.mails.slice(before)
    expect(mails).toHaveLength(1)
    expect(mails[0]!.subject).toBe('Digest: 3 alerts held during quiet hours')
    for (const city of ['toronto', 'lisbon', 'phoenix']) expect(mails[0]!.text).toContain(`Heat in ${city}`)
    expect(hook.requests).toHaveLength(1)
    expect(JSON.parse(hook.requests[0]!.body)).toMatchObject({ digest: true })
    await hook.close()
  })

  it('a failing channel is retried then recorded failed; the other channel and the rules go on; state survives a restart', async () => {
    const hook = await startReceiver(() => 500)
    const { stream, store } = await scratchLake()
    const state = createStateStore(store)
    const cfg = config(hook.url)
    const before = smtp.mails.length
    await stream.publish('weather', [reading('toronto', 31)])
    // The run says what it could not deliver: a failure is never a success.
    expect(await watchAlerts(stream, store, state, cfg)).toMatchObject({
      failed: 1,
      lastError: expect.stringMatching(/^hook: alert channel hook: POST .*HTTP 500$/),
    })
    expect(hook.requests).toHaveLength(3) // 1 + 2 retries
    expect(smtp.mails.length - before).toBe(1)
    // A restart (a new watcher on the same state): toronto is still firing, so 32 °C sends nothing,
    // and 20 °C resolves it.
    await stream.publish('weather', [reading('toronto', 32)])
    await watchAlerts(stream, store, state, cfg)
    expect(smtp.mails.length - before).toBe(1)
    await stream.publish('weather', [reading('toronto', 20)])
    await watchAlerts(stream, store, state, cfg)
    expect(smtp.mails.slice(before).map((m) => m.subject)).toEqual([
      'Heat in toronto: 31 C',
      'Heat in toronto: 20 C',
    ])
    const q = await createEngine()
    await attachLake(q, store)
    const failed = await q.query(
      'select state, attempts, error from weir.alerts where outcome = \'failed\' order by "at"',
    )
    expect(failed.rows).toEqual([
      {
        state: 'firing',
        attempts: 3,
        error: expect.stringMatching(/^alert channel hook: POST 127\.0\.0\.1:\d+: HTTP 500$/),
      },
      { state: 'resolved', attempts: 3, error: expect.stringMatching(/HTTP 500$/) },
    ])
    await q.close()
    await hook.close()
  }, 20_000)

  it('for: fires only after N consecutive matching records; no-data fires when a source goes quiet', async () => {
    const hook = await startReceiver()
    const { stream, store } = await scratchLake()
    const state = createStateStore(store)
    const cfg = alertsSchema.parse({
      channels: { hook: { kind: 'webhook', url: hook.url } },
      rules: {
        hot3: {
          source: 'weather',
          when: 'data.values.temperature >= 30',
          for: { records: 3 },
          channels: ['hook'],
        },
        stale: { source: 'weather', noData: '10m', channels: ['hook'] },
      },
    })
    await stream.publish('weather', [reading('x', 30), reading('x', 31)])
    await watchAlerts(stream, store, state, cfg)
    expect(hook.requests).toHaveLength(0)
    await stream.publish('weather', [reading('x', 32)])
    await watchAlerts(stream, store, state, cfg)
    expect(hook.requests.map((r) => JSON.parse(r.body).alerts[0].rule)).toEqual(['hot3'])
    // Eleven minutes without a record.
    await watchAlerts(stream, store, state, cfg, { now: () => Date.now() + 11 * 60_000 })
    expect(hook.requests.map((r) => JSON.parse(r.body).subject)).toEqual(['[FIRING] hot3', '[FIRING] stale'])
    await hook.close()
  })
})

describe('weir run --once with alerts that cannot be delivered', () => {
  it('records the alerts run failed, says why in one line, and exits 1', async () => {
    const { writeFile } = await import('node:fs/promises')
    const { join } = await import('node:path')
    const { weir } = await import('../helpers/cli.js')
    const { freePort, tempDir } = await import('../helpers/services.js')
    const dir = await tempDir('weir-alert-fail-')
    const port = await freePort() // nothing listens: every attempt fails
    await writeFile(
      join(dir, 'weir.config.ts'),
      `export default {
  lake: './lake',
  sources: { w: { kind: 'code', async *pull() { yield { records: [{ resource: 'r', data: { t: 40 } }] } } } },
  alerts: {
    channels: { hook: { kind: 'webhook', url: 'http://127.0.0.1:${port}/hook', retries: 1 } },
    rules: { hot: { source: 'w', when: 't > 30', channels: ['hook'] } },
  },
}
`,
    )
    const r = await weir(['run', '--once'], {}, dir)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(
      /^weir: alerts failed: 1 alert notification\(s\) could not be delivered after their retries \(last: hook: /m,
    )
    const runs = JSON.parse((await weir(['runs', '--job', 'alerts', '--format', 'json'], {}, dir)).stdout)
    expect(runs[0]).toMatchObject({ job: 'alerts', outcome: 'failed' })
  }, 60_000)
})
