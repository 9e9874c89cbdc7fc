import { BarChart, LineChart, ScatterChart } from 'echarts/charts'
import {
  DatasetComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TooltipComponent,
} from 'echarts/components'
import { type EChartsType, init, use } from 'echarts/core'
import { SVGRenderer } from 'echarts/renderers'
import type { QueryResult } from './api.js'
import { cell, el } from './dom.js'

use([
  LineChart,
  BarChart,
  ScatterChart,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  DatasetComponent,
  MarkLineComponent,
  SVGRenderer,
])

export interface ChartSpec {
  type: 'line' | 'bar' | 'area' | 'scatter' | 'number'
  x?: string
  y?: string | string[]
  /** A column whose values split the rows into one series each. */
  series?: string
  title?: string
  /** A horizontal line at this value (a threshold). */
  threshold?: number
}

/**
 * A chart of a query result (ECharts, SVG so it is crisp and inspectable), or a big number. The
 * data also goes in a visually hidden table, so the chart is readable without seeing it.
 */
export function chart(result: QueryResult, spec: ChartSpec): HTMLElement {
  const figure = el('figure', { class: 'chart' })
  if (spec.title) figure.append(el('figcaption', {}, spec.title))
  const names = result.columns.map((c) => c.name)
  if (spec.type === 'number') {
    const col = (Array.isArray(spec.y) ? spec.y[0] : spec.y) ?? names[0]!
    figure.append(el('p', { class: 'big-number', role: 'status' }, cell(result.rows[0]?.[col])))
    return figure
  }
  const x = spec.x ?? names[0]!
  const ys = Array.isArray(spec.y) ? spec.y : [spec.y ?? names[1] ?? names[0]!]
  const box = el('div', {
    class: 'chart-box',
    role: 'img',
    'aria-label': `${spec.type} chart of ${ys.join(', ')} by ${x}`,
  })
  figure.append(box)
  const kind = spec.type === 'area' ? 'line' : spec.type
  let series: object[]
  if (spec.series) {
    const groups = new Map<string, [unknown, unknown][]>()
    for (const r of result.rows) {
      const k = cell(r[spec.series])
      groups.set(k, [...(groups.get(k) ?? []), [r[x], r[ys[0]!]]])
    }
    series = [...groups].map(([name, data]) => ({
      name,
      type: kind,
      data,
      ...(spec.type === 'area' ? { areaStyle: {} } : {}),
    }))
  } else {
    series = ys.map((y) => ({
      name: y,
      type: kind,
      data: result.rows.map((r) => [r[x], r[y]]),
      ...(spec.type === 'area' ? { areaStyle: {} } : {}),
    }))
  }
  if (spec.threshold !== undefined && series[0])
    (series[0] as Record<string, unknown>).markLine = {
      symbol: 'none',
      data: [{ yAxis: spec.threshold, name: 'threshold' }],
      lineStyle: { color: '#c0392b' },
    }
  box.dataset.series = String(series.length)
  const numericX = result.rows.every((r) => typeof r[x] === 'number')
  // Drawn once the box is in the page (ECharts needs its size).
  requestAnimationFrame(() => {
    const c: EChartsType = init(box, undefined, { renderer: 'svg' })
    c.setOption({
      animation: false,
      tooltip: { trigger: spec.type === 'scatter' ? 'item' : 'axis' },
      legend: { show: series.length > 1, top: 0 },
      // Labels inside the box (containLabel), thinned where they would overlap, turned when many.
      grid: { left: 16, right: 24, top: series.length > 1 ? 36 : 24, bottom: 32, containLabel: true },
      xAxis: {
        type: numericX ? 'value' : 'category',
        name: x,
        nameLocation: 'middle',
        nameGap: result.rows.length > 12 && !numericX ? 56 : 28,
        axisLabel: { hideOverlap: true, rotate: result.rows.length > 12 && !numericX ? 35 : 0 },
      },
      yAxis: {
        type: 'value',
        name: ys.join(', '),
        nameTextStyle: { align: 'left' },
        axisLabel: { hideOverlap: true },
      },
      series,
    })
    new ResizeObserver(() => c.resize()).observe(box)
  })
  const data = el('details', { class: 'chart-data' }, el('summary', {}, 'Data'))
  const t = document.createElement('table')
  t.append(el('thead', {}, el('tr', {}, ...[x, ...ys].map((c) => el('th', {}, c)))))
  t.append(
    el(
      'tbody',
      {},
      ...result.rows
        .slice(0, 200)
        .map((r) => el('tr', {}, ...[x, ...ys].map((c) => el('td', {}, cell(r[c]))))),
    ),
  )
  data.append(t)
  figure.append(data)
  return figure
}
