import { api } from '../api.js'
import { el, table } from '../dom.js'

export async function runsPage(app: HTMLElement): Promise<void> {
  const [{ runs }, { alerts }] = await Promise.all([
    api<{ runs: Record<string, unknown>[] }>('runs'),
    api<{ alerts: Record<string, unknown>[] }>('alerts'),
  ])
  const failedOnly = el('input', { type: 'checkbox', id: 'failed' })
  const list = el('div')
  const head = ['job', 'start', 'duration', 'outcome', 'attempts', 'records', 'files', 'error']
  const draw = () =>
    list.replaceChildren(
      el(
        'table',
        { class: 'runs' },
        el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { scope: 'col' }, h)))),
        el(
          'tbody',
          {},
          ...runs
            .filter((r) => !failedOnly.checked || r.outcome === 'failed')
            .map((r) =>
              el(
                'tr',
                { 'data-run': String(r.id) },
                el('td', {}, String(r.job)),
                el('td', { title: String(r.start) }, new Date(String(r.start)).toLocaleString()),
                el('td', { class: 'num' }, duration(r)),
                el('td', {}, el('span', { class: `status ${String(r.outcome)}` }, String(r.outcome))),
                el('td', { class: 'num' }, String(r.attempts ?? '')),
                el('td', { class: 'num' }, Number(r.records ?? 0).toLocaleString()),
                el('td', { class: 'num' }, String(r.files ?? '')),
                el('td', {}, String(r.error ?? '')),
              ),
            ),
        ),
      ),
    )
  failedOnly.addEventListener('change', draw)
  draw()
  app.replaceChildren(
    el('h1', {}, 'Runs & alerts'),
    el('p', {}, failedOnly, el('label', { for: 'failed' }, ' failed only')),
    list,
    el('h2', {}, 'Alerts'),
    alerts.length
      ? table(['at', 'rule', 'key', 'state', 'outcome', 'channel', 'error'], alerts)
      : el('p', {}, 'No alert events.'),
  )
}

/** `0.4 s`, `12 s`, `3 min 5 s`, from a run's start and end. */
function duration(r: Record<string, unknown>): string {
  const s = (Date.parse(String(r.end)) - Date.parse(String(r.start))) / 1000
  if (!Number.isFinite(s)) return ''
  if (s < 10) return `${s.toFixed(1)} s`
  if (s < 60) return `${Math.round(s)} s`
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`
}
