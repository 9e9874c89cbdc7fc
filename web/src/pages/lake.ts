import { api, type QueryResult } from '../api.js'
import { ago, bytes, el, table } from '../dom.js'

interface TableRow {
  zone: string
  name: string
  format: string
  columns: number
  files: number
  bytes: number
  updatedAt: string
}

interface Fresh {
  table: string
  rows: number | null
  newestEvent: string | null
  lastFile: string
  lagSeconds: number | null
  stale: boolean
}

/**
 * Every table by zone, with its rows, files, size and freshness (newest event, last file, lag);
 * a table whose files are older than `serve.staleAfter` is flagged. The search box filters by name.
 */
export async function lakePage(app: HTMLElement): Promise<void> {
  const [{ tables }, fresh] = await Promise.all([
    api<{ tables: TableRow[] }>('tables'),
    api<{ staleAfter: string; tables: Fresh[] }>('freshness'),
  ])
  const byName = new Map(fresh.tables.map((f) => [f.table, f]))
  const search = el('input', { type: 'search', placeholder: 'Filter tables', 'aria-label': 'Filter tables' })
  const body = el('div')
  const lag = (s: number | null) =>
    s === null
      ? ''
      : s < 120
        ? `${s} s`
        : s < 7200
          ? `${Math.round(s / 60)} min`
          : s < 172_800
            ? `${Math.round(s / 3600)} h`
            : `${Math.round(s / 86_400)} d`
  const draw = () => {
    const q = search.value.trim().toLowerCase()
    body.replaceChildren(
      ...['raw', 'trusted', 'refined'].flatMap((zone) => {
        const rows = tables.filter((t) => t.zone === zone && `${zone}.${t.name}`.includes(q))
        return [
          el('h2', {}, `${zone} (${rows.length})`),
          el(
            'table',
            { class: 'tables' },
            el(
              'thead',
              {},
              el(
                'tr',
                {},
                ...[
                  'table',
                  'format',
                  'rows',
                  'files',
                  'size',
                  'newest event',
                  'lag',
                  'last file',
                  'freshness',
                ].map((h) => el('th', { scope: 'col' }, h)),
              ),
            ),
            el(
              'tbody',
              {},
              ...rows.map((t) => {
                const f = byName.get(`${zone}.${t.name}`)
                return el(
                  'tr',
                  { 'data-table': `${zone}.${t.name}` },
                  el(
                    'td',
                    {},
                    el('a', { href: `#/lake/${zone}/${encodeURIComponent(t.name)}` }, `${zone}.${t.name}`),
                  ),
                  el('td', {}, t.format),
                  el('td', { class: 'num' }, f?.rows === null || !f ? '' : f.rows.toLocaleString()),
                  el('td', { class: 'num' }, String(t.files)),
                  el('td', { class: 'num' }, bytes(t.bytes)),
                  el('td', {}, f?.newestEvent ? new Date(f.newestEvent).toLocaleString() : ''),
                  el('td', { class: 'num' }, lag(f?.lagSeconds ?? null)),
                  el('td', {}, ago(t.updatedAt)),
                  el(
                    'td',
                    {},
                    !f
                      ? ''
                      : f.stale
                        ? el(
                            'span',
                            { class: 'status warn', title: `no new file for over ${fresh.staleAfter}` },
                            'stale',
                          )
                        : el('span', { class: 'status succeeded' }, 'fresh'),
                  ),
                )
              }),
            ),
          ),
        ]
      }),
    )
  }
  search.addEventListener('input', draw)
  draw()
  const stale = fresh.tables.filter((f) => f.stale)
  app.replaceChildren(
    el('h1', {}, 'Lake'),
    stale.length
      ? el(
          'p',
          { class: 'warning', role: 'alert' },
          `${stale.length} table${stale.length === 1 ? '' : 's'} with no new file for over ${fresh.staleAfter}: ${stale.map((f) => f.table).join(', ')}`,
        )
      : el('p', {}, `Every table had a new file within ${fresh.staleAfter} (serve.staleAfter).`),
    el('p', {}, search),
    body,
  )
}

export async function tablePage(app: HTMLElement, zone: string, name: string): Promise<void> {
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
