import { sql as sqlLang } from '@codemirror/lang-sql'
import { defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language'
import { EditorView, keymap, lineNumbers } from '@codemirror/view'
import { type QueryResult, query } from '../api.js'
import { type ChartSpec, chart } from '../chart.js'
import { cell, el, table } from '../dom.js'

export function sqlPage(app: HTMLElement): void {
  const host = el('div', { class: 'editor', 'aria-label': 'SQL editor' })
  const out = el('section', { 'aria-live': 'polite' })
  const picker = chartPicker(() => render())
  let last: QueryResult | undefined
  const run = async () => {
    out.replaceChildren(el('p', { class: 'loading' }, 'Running…'))
    try {
      last = await query(editor.state.doc.toString())
      picker.fit(last)
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
      ...(picker.spec() ? [chart(last, picker.spec()!)] : []),
      grid(last),
    )
  }
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
    el('p', { class: 'controls' }, button, ' ', ...picker.controls),
    out,
  )
  editor.focus()
}

/** A results grid: sortable by column, paged. */
export function grid(r: QueryResult): HTMLElement {
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

const NUMERIC =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|REAL|DECIMAL)/i
const TEMPORAL = /^(DATE|TIMESTAMP|TIME)/i

/**
 * The chart's type, x, y and series, chosen from the result's columns when a query returns (a
 * time column → a line over it, a text column → bars, one number → the number), and changeable
 * after. A type the user picked stays picked; `auto` chooses again for each result.
 */
function chartPicker(onChange: () => void) {
  const select = (label: string, options: string[], multiple = false) => {
    const s = el('select', { 'aria-label': label, ...(multiple ? { multiple: '', size: '3' } : {}) })
    s.replaceChildren(...options.map((o) => el('option', { value: o }, o)))
    s.addEventListener('change', onChange)
    return s
  }
  const type = select('Chart type', ['auto', 'table only', 'line', 'bar', 'area', 'scatter', 'number'])
  const x = select('X axis', [])
  const y = select('Y axis', [], true)
  const series = select('Series', [])
  let auto: ChartSpec['type'] | 'table only' = 'table only'
  const label = (text: string, control: HTMLElement) => el('label', { class: 'pick' }, `${text} `, control)
  return {
    controls: [label('chart', type), label('x', x), label('y', y), label('series', series)],
    fit(r: QueryResult) {
      const names = r.columns.map((c) => c.name)
      const numbers = r.columns.filter((c) => NUMERIC.test(c.type)).map((c) => c.name)
      const time = r.columns.find((c) => TEMPORAL.test(c.type))?.name
      const text = r.columns.find((c) => !NUMERIC.test(c.type) && !TEMPORAL.test(c.type))?.name
      const xName = time ?? text ?? names[0] ?? ''
      const ys = numbers.filter((n) => n !== xName)
      const fill = (s: HTMLSelectElement, options: string[], chosen: string[]) => {
        s.replaceChildren(...options.map((o) => el('option', { value: o }, o)))
        for (const o of s.options) o.selected = chosen.includes(o.value)
      }
      fill(x, names, [xName])
      fill(y, numbers, ys.slice(0, 3))
      fill(series, ['(none)', ...names.filter((n) => !numbers.includes(n) && n !== xName)], ['(none)'])
      auto =
        r.rows.length === 1 && numbers.length === 1 && names.length === 1
          ? 'number'
          : !ys.length || !r.rows.length
            ? 'table only'
            : time
              ? 'line'
              : text
                ? 'bar'
                : 'scatter'
      type.querySelector('option[value=auto]')!.textContent = `auto (${auto})`
    },
    spec(): ChartSpec | undefined {
      const t = type.value === 'auto' ? auto : type.value
      if (t === 'table only') return undefined
      const ys = [...y.selectedOptions].map((o) => o.value)
      return {
        type: t as ChartSpec['type'],
        ...(x.value ? { x: x.value } : {}),
        ...(ys.length ? { y: t === 'number' ? ys[0]! : ys } : {}),
        ...(series.value && series.value !== '(none)' ? { series: series.value } : {}),
      }
    },
  }
}
