import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'
import { alertsSchema } from '../src/alerts/alerts-schema.js'
import { createEngine } from '../src/alerts/engine.js'
import { watchAlerts } from '../src/alerts/watch.js'
import { createStateStore } from '../src/state/state.js'
import { createLocalStore } from '../src/storage/local/local-store.js'
import { createEmbeddedStream } from '../src/stream/embedded/embedded-stream.js'
import { type BenchResult, median } from './types.js'

const quantile = (xs: readonly number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}

/**
 * Publish → email received: a reading crosses a threshold on the embedded stream, the alert
 * watcher (following the stream, default 250 ms tick) fires and sends it over SMTP to a local
 * smtp-server. Baseline: the same mail sent straight with nodemailer, in the same run.
 */
export async function alertsLatency(dir: string, count = 60): Promise<BenchResult> {
  const received = new Map<string, number>()
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _s, cb) {
      simpleParser(stream).then((m) => {
        received.set(m.subject ?? '', performance.now())
        cb()
      }, cb)
    },
  })
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r))
  const { port } = smtp.server.address() as AddressInfo
  const stream = await createEmbeddedStream(join(dir, 'stream'))
  const store = createLocalStore(join(dir, 'lake'))
  const config = alertsSchema.parse({
    channels: {
      mail: { kind: 'email', host: '127.0.0.1', port, from: 'weir@example.com', to: ['oncall@example.com'] },
    },
    rules: {
      heat: {
        source: 'weather',
        when: 'data.values.temperature > 30',
        key: 'location.name',
        channels: ['mail'],
        subject: 'heat {{ location.name }}',
        notifyResolved: false,
      },
    },
  })
  const stop = new AbortController()
  const watching = watchAlerts(stream, store, createStateStore(store), config, {
    follow: true,
    signal: stop.signal,
  })
  const published = new Map<string, number>()
  for (let i = 0; i < count; i++) {
    const city = `city-${i}`
    published.set(`heat ${city}`, performance.now())
    await stream.publish('weather', [
      {
        value: Buffer.from(
          JSON.stringify({ data: { values: { temperature: 35 } }, location: { name: city } }),
        ),
        headers: { resource: 'realtime' },
      },
    ])
    await new Promise((r) => setTimeout(r, 100))
  }
  const deadline = Date.now() + 10_000
  while (received.size < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  stop.abort()
  await watching
  const latencies = [...published]
    .map(([s, t]) => (received.get(s) ?? Number.NaN) - t)
    .filter(Number.isFinite)

  // Baseline: the mail alone, straight through nodemailer to the same server.
  const nodemailer = await import('nodemailer')
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false })
  const direct: number[] = []
  for (let i = 0; i < 30; i++) {
    const subject = `direct ${i}`
    const t0 = performance.now()
    await transport.sendMail({ from: 'weir@example.com', to: 'oncall@example.com', subject, text: 'x' })
    while (!received.has(subject)) await new Promise((r) => setTimeout(r, 1))
    direct.push(received.get(subject)! - t0)
  }
  transport.close()
  await stream.close()
  await new Promise<void>((r) => smtp.close(() => r()))
  const p50 = quantile(latencies, 0.5)
  const p95 = quantile(latencies, 0.95)
  const base = quantile(direct, 0.95)
  return {
    name: 'alerts-latency',
    unit: 'ms',
    value: p95,
    baseline: { name: 'the same mail sent directly with nodemailer (p95)', value: base },
    ratio: p95 / base,
    notes: `publish → SMTP receipt over ${latencies.length}/${count} alerts, one every 100 ms, embedded stream, watcher following with a 250 ms tick: p50 ${p50.toFixed(0)} ms, p95 ${p95.toFixed(0)} ms (goal p95 < 1000 ms); direct send p50 ${quantile(direct, 0.5).toFixed(1)} ms`,
    details: { p50, p95, direct: median(direct) },
  }
}

/** 100 rules over one source, evaluated on every record; baseline: the same conditions as JavaScript closures. */
export async function alertsRules(records = 20_000): Promise<BenchResult> {
  const rules: Record<string, unknown> = {}
  const closures: ((r: {
    data: { values: { temperature: number; humidity: number } }
    location: { name: string }
  }) => boolean)[] = []
  for (let i = 0; i < 100; i++) {
    rules[`r${i}`] = {
      source: 'weather',
      when: `data.values.temperature > ${40 + i} and (data.values.humidity < ${90 - (i % 10)} or location.name in ['a', 'b'])`,
      key: 'location.name',
      channels: ['out'],
    }
    closures.push(
      (r) =>
        r.data.values.temperature > 40 + i &&
        (r.data.values.humidity < 90 - (i % 10) || ['a', 'b'].includes(r.location.name)),
    )
  }
  const engine = createEngine(alertsSchema.parse({ channels: { out: { kind: 'console' } }, rules }))
  const data = Array.from({ length: records }, (_, i) => ({
    data: { values: { temperature: (i * 7) % 60, humidity: (i * 13) % 100 } },
    location: { name: `city-${i % 50}` },
  }))
  const t0 = performance.now()
  let fired = 0
  for (const [i, d] of data.entries()) fired += engine.onRecord('weather', 'realtime', d, i).length
  const seconds = (performance.now() - t0) / 1000
  const t1 = performance.now()
  let hits = 0
  for (const d of data) for (const c of closures) if (c(d)) hits++
  const baseSeconds = (performance.now() - t1) / 1000
  const perSecond = (records * 100) / seconds
  const basePerSecond = (records * 100) / baseSeconds
  return {
    name: 'alerts-rules',
    unit: 'rule evaluations/s',
    value: perSecond,
    baseline: { name: 'the same 100 conditions as JavaScript closures', value: basePerSecond },
    ratio: perSecond / basePerSecond,
    notes: `${records.toLocaleString('en-US')} records × 100 rules (with keys and state): ${Math.round(perSecond).toLocaleString('en-US')} evaluations/s, ${Math.round(records / seconds).toLocaleString('en-US')} records/s; ${fired} notifications (closures matched ${hits} times)`,
  }
}
