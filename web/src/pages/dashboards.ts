import { marked } from 'marked'
import { api, type QueryResult } from '../api.js'
import { type ChartSpec, chart } from '../chart.js'
import { el } from '../dom.js'

export async function dashboardsPage(app: HTMLElement): Promise<void> {
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
export async function dashboardPage(app: HTMLElement, name: string): Promise<void> {
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
      el('small', {}, `Refreshed ${new Date(d.refreshedAt).toLocaleTimeString()}; updates when a run ends.`),
    ),
  )
}
