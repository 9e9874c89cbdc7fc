import { sql as sqlLang } from '@codemirror/lang-sql'
import { defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language'
import { EditorView, keymap, lineNumbers } from '@codemirror/view'
import { marked } from 'marked'
import { api, type QueryResult, query } from './api.js'
import { type ChartSpec, chart } from './chart.js'
import { ago, bytes, cell, el, table } from './dom.js'
import './style.css'

const app = document.getElementById('app')!
let timer: number | undefined

/** The pages, by URL hash: the app is one page that the server hands out for any path. */
async function route(): Promise<void> {
  clearInterval(timer)
  const [page = 'overview', ...rest] = location.hash.replace(/^#\/?/, '').split('/')
  for (const a of document.querySelectorAll('nav a'))
    a.toggleAttribute('aria-current', a.getAttribute('href') === `#/${page}`)
  app.replaceChildren(el('p', { class: 'loading' }, 'Loading…'))
  try {
    if (page === 'lake' && rest.length === 2) await tablePage(rest[0]!, decodeURIComponent(rest[1]!))
    else if (page === 'lake') await lakePage()
    else if (page === 'sql') sqlPage()
    else if (page === 'runs') await runsPage()
    else if (page === 'dashboards' && rest[0]) await dashboardPage(decodeURIComponent(rest[0]))
    else if (page === 'dashboards') await dashboardsPage()
    else {
      await overviewPage()
      timer = window.setInterval(() => void overviewPage(), 5000)
    }
  } catch (err) {
    app.replaceChildren(el('p', { class: 'error', role: 'alert' }, (err as Error).message))
  }
}

interface Overview {
  lake: string
  stream: string
  generatedAt: string
  stages: {
    stage: string
    lastRun: string | null
    outcome: string | null
    error: string | null
    lastHour: { records: number; files: number; runs: number } | null
  }[]
  sources: {
    name: string
    kind: string
    lastRun: string | null
    outcome: string | null
    lastHour: { records: number; runs: number }
  }[]
  groups: {
    topic: string
    partition: string
    group: string
    committed?: string
    end?: string
    lag?: number
  }[]
  tables: Record<string, number>
  errors: { lastHour: number; recent: { key: string; at: string }[] }
}

async function overviewPage(): Promise<void> {
  const o = await api<Overview>('overview')
  const status = (outcome: string | null) =>
    el('span', { class: `status ${outcome ?? 'none'}` }, outcome ?? 'not run')
  app.replaceChildren(
    el('h1', {}, 'Overview'),
    el(
      'p',
      {},
      `Lake ${o.lake}, stream ${o.stream}. Tables: ${Object.entries(o.tables)
        .map(([z, n]) => `${n} ${z}`)
        .join(', ')}. `,
      el('small', {}, `Refreshed ${new Date(o.generatedAt).toLocaleTimeString()}`),
    ),
    el('h2', {}, 'Stages'),
    el(
      'ul',
      { class: 'stages' },
      ...o.stages.map((s) =>
        el(
          'li',
          { class: 'stage', 'data-stage': s.stage },
          el('strong', {}, s.stage),
          ' ',
          status(s.outcome),
          el('span', {}, ` last run ${ago(s.lastRun)}`),
          s.lastHour
            ? el('span', {}, ` · last hour: ${s.lastHour.runs} runs, ${s.lastHour.records} records`)
            : null,
          s.error ? el('p', { class: 'error' }, s.error) : null,
        ),
      ),
    ),
    el('h2', {}, 'Sources'),
    table(
      ['source', 'kind', 'last run', 'outcome', 'records (1 h)'],
      o.sources.map((s) => ({
        source: s.name,
        kind: s.kind,
        'last run': ago(s.lastRun),
        outcome: s.outcome ?? '',
        'records (1 h)': s.lastHour.records,
      })),
    ),
    el('h2', {}, 'Consumer groups'),
    o.groups.length
      ? table(
          ['group', 'topic', 'partition', 'committed', 'end', 'lag'],
          o.groups as unknown as Record<string, unknown>[],
        )
      : el('p', {}, 'No consumer group yet.'),
    el('h2', {}, 'Errors in the last hour'),
    el('p', {}, o.errors.lastHour ? `${o.errors.lastHour} files set aside in _errors/` : 'None.'),
    ...(o.errors.recent.length
      ? [el('ul', {}, ...o.errors.recent.map((e) => el('li', {}, `${e.key} (${ago(e.at)})`)))]
      : []),
  )
}

async function lakePage(): Promise<void> {
  const { tables } = await api<{
    tables: {
      zone: string
      name: string
      format: string
      columns: number
      files: number
      bytes: number
      updatedAt: string
    }[]
  }>('tables')
  app.replaceChildren(
    el('h1', {}, 'Lake'),
    ...['raw', 'trusted', 'refined'].flatMap((zone) => {
      const rows = tables.filter((t) => t.zone === zone)
      return [
        el('h2', {}, `${zone} (${rows.length})`),
        el(
          'ul',
          { class: 'tables' },
          ...rows.map((t) =>
            el(
              'li',
              {},
              el('a', { href: `#/lake/${zone}/${encodeURIComponent(t.name)}` }, `${zone}.${t.name}`),
              ` ${t.format}, ${t.columns} columns, ${t.files} files, ${bytes(t.bytes)}, updated ${ago(t.updatedAt)}`,
            ),
          ),
        ),
      ]
    }),
  )
}

async function tablePage(zone: string, name: string): Promise<void> {
  const r = await api<{
    table: {
      columns: { name: string; type: string; description?: string }[]
      versions?: { version: number; at: string; changes: string[] }[]
      location: string
      partitioning: string[]
      primaryKey?: string[]
      format: string
    }
    partitions: { partition: string; files: number; bytes: number }[]
    sample: QueryResult | { error: string }
    ddl: Record<string, string>
  }>(`tables/${zone}/${encodeURIComponent(name)}`)
  const t = r.table
  app.replaceChildren(
    el('h1', {}, `${zone}.${name}`),
    el(
      'p',
      {},
      `${t.format} at ${t.location}${t.partitioning.length ? `, partitioned by ${t.partitioning.join('/')}` : ''}${t.primaryKey ? `, key ${t.primaryKey.join(', ')}` : ''}`,
    ),
    el('h2', {}, 'Schema'),
    table(['name', 'type', 'description'], t.columns as unknown as Record<string, unknown>[]),
    ...(t.versions?.length
      ? [
          el('h2', {}, 'Schema versions'),
          table(
            ['version', 'at', 'changes'],
            t.versions.map((v) => ({ ...v, changes: v.changes.join('; ') })),
          ),
        ]
      : []),
    el('h2', {}, 'Partitions'),
    table(
      ['partition', 'files', 'bytes'],
      r.partitions.map((p) => ({ ...p, bytes: bytes(p.bytes) })),
    ),
    el('h2', {}, 'Sample'),
    'error' in r.sample
      ? el('p', { class: 'error' }, r.sample.error)
      : table(
          r.sample.columns.map((c) => c.name),
          r.sample.rows,
        ),
    el('h2', {}, 'DDL'),
    ...Object.entries(r.ddl).map(([d, text]) => el('details', {}, el('summary', {}, d), el('pre', {}, text))),
  )
}

function sqlPage(): void {
  const host = el('div', { class: 'editor', 'aria-label': 'SQL editor' })
  const out = el('section', { 'aria-live': 'polite' })
  const type = el(
    'select',
    { 'aria-label': 'Chart type' },
    ...['table only', 'line', 'bar', 'area', 'scatter', 'number'].map((t) => el('option', { value: t }, t)),
  )
  let last: QueryResult | undefined
  const run = async () => {
    out.replaceChildren(el('p', { class: 'loading' }, 'Running…'))
    try {
      last = await query(editor.state.doc.toString())
      render()
    } catch (err) {
      out.replaceChildren(el('p', { class: 'error', role: 'alert' }, (err as Error).message))
    }
    return true
  }
  const render = () => {
    if (!last) return
    const csv = [
      last.columns.map((c) => c.name).join(','),
      ...last.rows.map((r) => last!.columns.map((c) => JSON.stringify(cell(r[c.name]))).join(',')),
    ].join('\n')
    const link = el(
      'a',
      { download: 'result.csv', href: URL.createObjectURL(new Blob([csv], { type: 'text/csv' })) },
      'Export CSV',
    )
    out.replaceChildren(
      el('p', {}, `${last.rows.length} rows${last.truncated ? ' (truncated)' : ''} · `, link),
      ...(type.value === 'table only' ? [] : [chart(last, { type: type.value as ChartSpec['type'] })]),
      grid(last),
    )
  }
  type.addEventListener('change', render)
  const editor = new EditorView({
    doc: 'select * from trusted.x_tweets limit 100',
    parent: host,
    extensions: [
      keymap.of([
        {
          key: 'Mod-Enter',
          run: () => {
            void run()
            return true
          },
        },
      ]),
      lineNumbers(),
      sqlLang(),
      syntaxHighlighting(defaultHighlightStyle),
      EditorView.lineWrapping,
    ],
  })
  const button = el('button', { type: 'button' }, 'Run (Ctrl+Enter)')
  button.addEventListener('click', () => void run())
  app.replaceChildren(
    el('h1', {}, 'SQL'),
    el('p', {}, 'Read-only queries over every zone (raw, trusted, refined, weir.alerts).'),
    host,
    el('p', {}, button, ' ', type),
    out,
  )
  editor.focus()
}

/** A results grid: sortable by column, paged. */
function grid(r: QueryResult): HTMLElement {
  let rows = [...r.rows]
  let page = 0
  const size = 50
  const box = el('div', { class: 'grid' })
  const draw = () => {
    const names = r.columns.map((c) => c.name)
    const t = table(names, rows.slice(page * size, (page + 1) * size))
    t.querySelectorAll('th').forEach((th, i) => {
      const b = el('button', { type: 'button', title: 'Sort' }, names[i]!)
      b.addEventListener('click', () => {
        const k = names[i]!
        rows = [...rows].sort((a, z) => (cell(a[k]) < cell(z[k]) ? -1 : cell(a[k]) > cell(z[k]) ? 1 : 0))
        draw()
      })
      th.replaceChildren(b)
    })
    const prev = el('button', { type: 'button' }, 'Previous')
    const next = el('button', { type: 'button' }, 'Next')
    prev.toggleAttribute('disabled', page === 0)
    next.toggleAttribute('disabled', (page + 1) * size >= rows.length)
    prev.addEventListener('click', () => {
      page--
      draw()
    })
    next.addEventListener('click', () => {
      page++
      draw()
    })
    box.replaceChildren(
      t,
      el('p', {}, prev, ` page ${page + 1} of ${Math.max(1, Math.ceil(rows.length / size))} `, next),
    )
  }
  draw()
  return box
}

async function runsPage(): Promise<void> {
  const [{ runs }, { alerts }] = await Promise.all([
    api<{ runs: Record<string, unknown>[] }>('runs'),
    api<{ alerts: Record<string, unknown>[] }>('alerts'),
  ])
  const failedOnly = el('input', { type: 'checkbox', id: 'failed' })
  const list = el('div')
  const draw = () =>
    list.replaceChildren(
      table(
        ['job', 'start', 'outcome', 'attempts', 'records', 'files', 'error'],
        runs.filter((r) => !failedOnly.checked || r.outcome === 'failed'),
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

async function dashboardsPage(): Promise<void> {
  const { dashboards } = await api<{ dashboards: string[] }>('dashboards')
  app.replaceChildren(
    el('h1', {}, 'Dashboards'),
    dashboards.length
      ? el(
          'ul',
          {},
          ...dashboards.map((d) =>
            el('li', {}, el('a', { href: `#/dashboards/${encodeURIComponent(d)}` }, d)),
          ),
        )
      : el('p', {}, 'No dashboards: add Markdown files with ```sql and ```chart blocks to dashboards/.'),
  )
}

/** Markdown from the project, with its SQL blocks run and its chart blocks drawn from them. */
async function dashboardPage(name: string): Promise<void> {
  const d = await api<{
    markdown: string
    results: Record<string, QueryResult | { error: string }>
    refreshedAt: string
  }>(`dashboards/${encodeURIComponent(name)}`)
  const body = el('article', { class: 'dashboard' })
  for (const token of marked.lexer(d.markdown)) {
    if (token.type === 'code' && token.lang?.startsWith('sql')) {
      const key = token.lang.split(/\s+/)[1] ?? ''
      body.append(
        el('details', { class: 'sql' }, el('summary', {}, `SQL: ${key}`), el('pre', {}, token.text)),
      )
      continue
    }
    if (token.type === 'code' && token.lang === 'chart') {
      const spec = JSON.parse(token.text) as ChartSpec & { data: string }
      const result = d.results[spec.data]
      if (!result || 'error' in result)
        body.append(
          el(
            'p',
            { class: 'error', role: 'alert' },
            `${spec.data}: ${result && 'error' in result ? result.error : 'no such query'}`,
          ),
        )
      else body.append(chart(result, spec))
      continue
    }
    const div = el('div')
    // The project's own Markdown, rendered; its data comes only through the charts above.
    div.innerHTML = marked.parser([token] as never)
    body.append(...div.childNodes)
  }
  app.replaceChildren(
    body,
    el(
      'p',
      {},
      el('small', {}, `Refreshed ${new Date(d.refreshedAt).toLocaleTimeString()}; updates every 30 s.`),
    ),
  )
  timer = window.setInterval(() => void dashboardPage(name), 30_000)
}

window.addEventListener('hashchange', () => void route())
void route()
