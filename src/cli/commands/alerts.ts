import { WeirError } from '../../core/errors.js'
import { parseDuration } from '../../core/units.js'
import { sqlString } from '../../engine/engine.js'
import { type GlobalOptions, interruption, withPipeline } from '../context.js'
import { type Format, renderRows } from '../output.js'

const cols = (names: string[]) => names.map((name) => ({ name, type: '' }))

/** `weir alerts watch [--follow]`: evaluate the rules on the stream and deliver what fires. */
export async function alertsWatch(opts: { follow?: boolean }, globals: GlobalOptions): Promise<void> {
  const signal = interruption()
  await withPipeline(globals, async (p) => {
    const s = await p.alerts(signal, opts.follow ?? false, (e) =>
      process.stdout.write(
        `${e.at}  ${e.rule}${e.key ? ` (${e.key})` : ''}  ${e.state}  ${e.outcome}${e.channel ? ` via ${e.channel}` : ''}${e.error ? `  error: ${e.error}` : ''}\n`,
      ),
    )
    process.stdout.write(
      `alerts: ${s.records.toLocaleString('en-US')} records evaluated; ${s.notes?.[0] ?? ''}\n`,
    )
  })
}

/** `weir alerts ls`: every rule, its channels, and the keys now pending or firing. */
export async function alertsLs(opts: { format: Format }, globals: GlobalOptions): Promise<void> {
  await withPipeline(globals, async (p) => {
    const saved = await p.state.get<{
      engine?: { alerts: Record<string, { status: string; since: number }> }
    }>('alerts/alerts/state')
    const silences =
      (await p.state.get<{ silences: { rule: string; key?: string; until: string }[] }>('alerts/silences'))
        ?.silences ?? []
    const rows = Object.entries(p.config.alerts.rules).map(([name, r]) => {
      const active = Object.entries(saved?.engine?.alerts ?? {})
        .filter(([id]) => id.split('\u0000')[0] === name)
        .map(([id, s]) => `${id.split('\u0000')[1] || '-'}: ${s.status}`)
      const silenced = silences.find((s) => s.rule === name && Date.parse(s.until) > Date.now())
      return {
        rule: name,
        watches: `${r.source}${r.resource ? `.${r.resource}` : ''}`,
        when: r.when ?? `no data for ${r.noData}`,
        channels: r.channels.join(', '),
        active: active.join('; ') || null,
        silenced_until: silenced?.until ?? null,
      }
    })
    if (opts.format === 'json') return void process.stdout.write(`${JSON.stringify(rows)}\n`)
    process.stdout.write(
      `${rows.length ? renderRows({ columns: cols(['rule', 'watches', 'when', 'channels', 'active', 'silenced_until']), rows }, 'table') : '(no alert rules in the config)'}\n`,
    )
  })
}

/** `weir alerts history [--rule r] [--limit n]`: the alert events, newest first (from weir.alerts). */
export async function alertsHistory(
  opts: { rule?: string; limit: number; format: Format },
  globals: GlobalOptions,
): Promise<void> {
  await withPipeline(globals, async (p) => {
    const r = await p.query(
      `select "at", rule, "key", state, outcome, channel, attempts, error from weir.alerts
       ${opts.rule ? `where rule = ${sqlString(opts.rule)}` : ''} order by "at" desc limit ${Math.max(1, Math.floor(opts.limit))}`,
    )
    process.stdout.write(`${r.rows.length ? renderRows(r, opts.format) : '(no alert events yet)'}\n`)
  })
}

/** `weir alerts silence <rule> --for 2h [--key k]`: no notification from the rule (or one key) for a while. */
export async function alertsSilence(
  rule: string,
  opts: { for: string; key?: string },
  globals: GlobalOptions,
): Promise<void> {
  await withPipeline(globals, async (p) => {
    if (!p.config.alerts.rules[rule]) {
      throw new WeirError(
        `no alert rule "${rule}"; rules: ${Object.keys(p.config.alerts.rules).join(', ') || 'none'}`,
        {
          code: 'ALERT_RULE_UNKNOWN',
          stage: 'cli',
        },
      )
    }
    const until = new Date(Date.now() + parseDuration(opts.for)).toISOString()
    const doc = await p.state.get<{ silences: { rule: string; key?: string; until: string }[] }>(
      'alerts/silences',
    )
    const silences = (doc?.silences ?? []).filter((s) => Date.parse(s.until) > Date.now())
    silences.push({ rule, ...(opts.key ? { key: opts.key } : {}), until })
    await p.state.put('alerts/silences', { silences })
    process.stdout.write(`silenced ${rule}${opts.key ? ` (${opts.key})` : ''} until ${until}\n`)
  })
}

/** `weir alerts test <rule> --record '<json>'`: whether the rule matches, and what it would send. */
export async function alertsTest(
  rule: string,
  opts: { record: string },
  globals: GlobalOptions,
): Promise<void> {
  const { createEngine } = await import('../../alerts/engine.js')
  await withPipeline(globals, async (p) => {
    const cfg = p.config.alerts.rules[rule]
    if (!cfg) {
      throw new WeirError(
        `no alert rule "${rule}"; rules: ${Object.keys(p.config.alerts.rules).join(', ') || 'none'}`,
        {
          code: 'ALERT_RULE_UNKNOWN',
          stage: 'cli',
        },
      )
    }
    let record: unknown
    try {
      record = JSON.parse(opts.record)
    } catch (err) {
      throw new WeirError(`--record is not JSON: ${(err as Error).message}`, {
        code: 'ALERT_TEST_RECORD',
        stage: 'cli',
      })
    }
    const r = createEngine(p.config.alerts).test(rule, record)
    if (!r.matches) {
      process.stdout.write(`${rule}: no match (when ${cfg.when ?? '(a no-data rule)'})\n`)
      return
    }
    const n = r.notification!
    const firesAfter =
      cfg.for === undefined
        ? ''
        : ` (fires once it holds ${typeof cfg.for === 'object' ? `for ${cfg.for.records} records` : `for ${cfg.for}`})`
    process.stdout.write(
      `${rule}: matches${firesAfter}\nwould send to ${n.channels.join(', ')}:\nsubject: ${n.subject}\n${n.body}\n`,
    )
  })
}
