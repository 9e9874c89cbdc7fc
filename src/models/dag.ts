import type { Model, Project } from './project.js'
import { modelError } from './project.js'

/**
 * The models in an order that runs each after the models it refs, as levels: the models of one
 * level are independent of each other and may run at once. A cycle fails with the files and lines
 * of the refs that close it; a ref to no model fails with its `file:line`.
 */
export function levels(project: Project, selected: ReadonlySet<string>): string[][] {
  const { models } = project
  for (const m of models.values()) {
    for (const r of m.refs) {
      if (r.kind === 'ref' && !models.has(r.name)) {
        const known = [...models.keys()].sort().join(', ')
        throw modelError(
          `${m.path}:${r.line}`,
          `ref('${r.name}') is not a model of this project (models: ${known})`,
        )
      }
    }
  }
  findCycle(models)
  const done = new Set<string>()
  const out: string[][] = []
  const pending = new Set([...selected])
  while (pending.size) {
    const level = [...pending].filter((n) =>
      upstream(models.get(n)!).every((u) => done.has(u) || !selected.has(u)),
    )
    level.sort()
    for (const n of level) {
      pending.delete(n)
    }
    for (const n of level) done.add(n)
    out.push(level)
  }
  return out
}

export function upstream(m: Model): string[] {
  return [...new Set(m.refs.filter((r) => r.kind === 'ref').map((r) => r.name))]
}

/**
 * `name`, `name+` (and everything downstream), `+name` (and everything upstream), `tag:x`,
 * comma- or space-separated; everything when empty.
 */
export function select(project: Project, selectors: readonly string[]): Set<string> {
  const { models } = project
  const parts = selectors.flatMap((s) => s.split(/[\s,]+/)).filter(Boolean)
  if (!parts.length) return new Set(models.keys())
  const down = new Map<string, string[]>()
  for (const m of models.values()) for (const u of upstream(m)) down.set(u, [...(down.get(u) ?? []), m.name])
  const walk = (start: string, next: (n: string) => readonly string[], into: Set<string>) => {
    const stack = [start]
    while (stack.length) {
      const n = stack.pop()!
      for (const x of next(n)) {
        if (into.has(x)) continue
        into.add(x)
        stack.push(x)
      }
    }
  }
  const out = new Set<string>()
  for (const p of parts) {
    if (p.startsWith('tag:')) {
      for (const m of models.values()) if (m.config.tags.includes(p.slice(4))) out.add(m.name)
      continue
    }
    const name = p.replace(/^\+/, '').replace(/\+$/, '')
    if (!models.has(name)) {
      throw modelError(
        'select',
        `--select ${p}: no model named ${name} (models: ${[...models.keys()].sort().join(', ')})`,
      )
    }
    out.add(name)
    if (p.endsWith('+')) walk(name, (n) => down.get(n) ?? [], out)
    if (p.startsWith('+')) walk(name, (n) => (models.has(n) ? upstream(models.get(n)!) : []), out)
  }
  return out
}

function findCycle(models: ReadonlyMap<string, Model>): void {
  const state = new Map<string, 'open' | 'done'>()
  const path: string[] = []
  const visit = (n: string): void => {
    if (state.get(n) === 'done') return
    if (state.get(n) === 'open') {
      const loop = [...path.slice(path.indexOf(n)), n]
      const where = loop.slice(0, -1).map((a, i) => {
        const m = models.get(a)!
        const r = m.refs.find((x) => x.kind === 'ref' && x.name === loop[i + 1])!
        return `${m.path}:${r.line}`
      })
      throw modelError(where[0]!, `ref cycle: ${loop.join(' → ')} (${where.join(', ')})`)
    }
    state.set(n, 'open')
    path.push(n)
    for (const u of upstream(models.get(n)!)) if (models.has(u)) visit(u)
    path.pop()
    state.set(n, 'done')
  }
  for (const n of [...models.keys()].sort()) visit(n)
}
