import { api } from '../api.js'
import { el } from '../dom.js'

interface Lineage {
  nodes: { id: string; kind: string; label: string }[]
  edges: { from: string; to: string }[]
}

const COLUMNS: [string, string[]][] = [
  ['Sources', ['source']],
  ['Raw', ['raw']],
  ['Trusted', ['trusted']],
  ['Models', ['refined']],
  ['Served & warehouse', ['served', 'warehouse']],
]

/**
 * Where each table comes from and where it goes: one column per stage, a line per edge (SVG, drawn
 * once the boxes are laid out). Each node names its inputs too, so the graph reads without seeing it.
 */
export async function lineagePage(app: HTMLElement): Promise<void> {
  const g = await api<Lineage>('lineage')
  const inputs = (id: string) => g.edges.filter((e) => e.to === id).map((e) => e.from)
  const node = (n: Lineage['nodes'][number]) => {
    const from = inputs(n.id)
    const href = /^(raw|trusted|refined)\./.test(n.id) ? `#/lake/${n.id.replace('.', '/')}` : undefined
    return el(
      'li',
      { class: `node ${n.kind}`, 'data-node': n.id, 'data-inputs': from.join(' ') },
      href ? el('a', { href }, n.label) : el('span', {}, n.label),
      from.length ? el('small', {}, `from ${from.join(', ')}`) : null,
    )
  }
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg')
  svg.setAttribute('class', 'edges')
  svg.setAttribute('aria-hidden', 'true')
  const graph = el(
    'div',
    { class: 'lineage' },
    svg,
    ...COLUMNS.map(([title, kinds]) =>
      el(
        'section',
        { class: 'column' },
        el('h2', {}, title),
        el('ul', {}, ...g.nodes.filter((n) => kinds.includes(n.kind)).map(node)),
      ),
    ),
  )
  app.replaceChildren(
    el('h1', {}, 'Lineage'),
    el('p', {}, `${g.nodes.length} nodes, ${g.edges.length} edges, from the catalog and the models' refs.`),
    graph,
  )
  requestAnimationFrame(() => drawEdges(graph, svg, g.edges))
}

function drawEdges(graph: HTMLElement, svg: SVGSVGElement, edges: Lineage['edges']): void {
  const box = graph.getBoundingClientRect()
  svg.setAttribute('width', String(graph.scrollWidth))
  svg.setAttribute('height', String(graph.scrollHeight))
  const at = (id: string) => graph.querySelector(`[data-node="${CSS.escape(id)}"]`)?.getBoundingClientRect()
  for (const e of edges) {
    const a = at(e.from)
    const b = at(e.to)
    if (!a || !b) continue
    const x1 = a.right - box.left
    const y1 = a.top + a.height / 2 - box.top
    const x2 = b.left - box.left
    const y2 = b.top + b.height / 2 - box.top
    const path = document.createElementNS('http://www.w3.org/2000/svg', 'path')
    const mid = (x1 + x2) / 2
    path.setAttribute('d', `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`)
    path.setAttribute('data-edge', `${e.from} ${e.to}`)
    svg.append(path)
  }
}
