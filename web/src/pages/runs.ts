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
    timeline(runs.slice(0, 200)),
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

const SVG = 'http://www.w3.org/2000/svg'

/**
 * The runs on a time axis: a row per job, a bar per run from its start to its end (at least a
 * sliver), coloured by outcome, with its job, outcome and duration as its title.
 */
function timeline(runs: Record<string, unknown>[]): Element {
  const spans = runs
    .map((r) => ({ r, start: Date.parse(String(r.start)), end: Date.parse(String(r.end)) }))
    .filter((x) => Number.isFinite(x.start) && Number.isFinite(x.end))
  if (!spans.length) return el('p', {}, 'No runs yet.')
  const jobs = [...new Set(spans.map((x) => String(x.r.job)))].sort()
  const from = Math.min(...spans.map((x) => x.start))
  const to = Math.max(...spans.map((x) => x.end), from + 1000)
  const [width, row, left] = [900, 22, 110]
  const x = (t: number) => left + ((t - from) / (to - from)) * (width - left - 10)
  const svg = document.createElementNS(SVG, 'svg')
  svg.setAttribute('class', 'timeline')
  svg.setAttribute('viewBox', `0 0 ${width} ${jobs.length * row + 24}`)
  svg.setAttribute('role', 'img')
  svg.setAttribute('aria-label', `timeline of ${spans.length} runs of ${jobs.length} jobs`)
  const add = (tag: string, attrs: Record<string, string | number>, text?: string) => {
    const e = document.createElementNS(SVG, tag)
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v))
    if (text) e.textContent = text
    svg.append(e)
    return e
  }
  for (const [i, job] of jobs.entries()) add('text', { x: 0, y: i * row + 15, class: 'job' }, job)
  for (const { r, start, end } of spans) {
    const bar = add('rect', {
      x: x(start),
      y: jobs.indexOf(String(r.job)) * row + 4,
      width: Math.max(3, x(end) - x(start)),
      height: row - 8,
      rx: 3,
      class: `run ${String(r.outcome)}`,
    })
    const title = document.createElementNS(SVG, 'title')
    title.textContent = `${String(r.job)} ${String(r.outcome)}, ${duration(r)}, ${new Date(start).toLocaleString()}`
    bar.append(title)
  }
  add('text', { x: left, y: jobs.length * row + 18, class: 'axis' }, new Date(from).toLocaleString())
  add(
    'text',
    { x: width - 10, y: jobs.length * row + 18, class: 'axis', 'text-anchor': 'end' },
    new Date(to).toLocaleString(),
  )
  return svg
}
