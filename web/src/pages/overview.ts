import { api } from '../api.js'
import { ago, el, table } from '../dom.js'

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

export async function overviewPage(app: HTMLElement): Promise<void> {
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
