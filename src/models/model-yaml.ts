import { LineCounter, parseDocument } from 'yaml'
import { modelError } from './parse-model.js'
import type { Model, TestSpec } from './project.js'

/** Applies a YAML file's model and column docs and returns the tests it declares. */
export async function applyYaml(path: string, text: string, models: Map<string, Model>): Promise<TestSpec[]> {
  const counter = new LineCounter()
  const doc = parseDocument(text, { lineCounter: counter, keepSourceTokens: false })
  if (doc.errors.length) {
    const e = doc.errors[0]!
    throw modelError(`${path}:${e.linePos?.[0].line ?? 1}`, e.message.split('\n')[0]!)
  }
  const lineAt = (node: unknown) =>
    counter.linePos((node as { range?: [number] } | undefined)?.range?.[0] ?? 0).line
  const tests: TestSpec[] = []
  const root = doc.get('models', true) as { items?: unknown[] } | undefined
  for (const item of root?.items ?? []) {
    const entry = (item as { toJSON(): Record<string, unknown> }).toJSON() as {
      name?: string
      description?: string
      columns?: { name: string; description?: string; tests?: unknown[]; data_tests?: unknown[] }[]
      tests?: unknown[]
    }
    const at = `${path}:${lineAt(item)}`
    const model = entry.name ? models.get(entry.name) : undefined
    if (!model)
      throw modelError(at, `${entry.name ?? '(no name)'} is not a model in this project; see its name: key`)
    models.set(model.name, {
      ...model,
      config: {
        ...model.config,
        ...(entry.description ? { description: entry.description } : {}),
        columns: (entry.columns ?? []).map((c) => ({
          name: c.name,
          ...(c.description ? { description: c.description } : {}),
        })),
      },
    })
    const columnNodes = (
      (item as { get(k: string, keep: boolean): unknown }).get('columns', true) as
        | { items?: unknown[] }
        | undefined
    )?.items
    for (const [i, c] of (entry.columns ?? []).entries()) {
      const where = `${path}:${lineAt(columnNodes?.[i])}`
      for (const t of [...(c.tests ?? []), ...(c.data_tests ?? [])])
        tests.push(genericTest(t, model.name, c.name, where))
    }
  }
  return tests
}

function genericTest(t: unknown, model: string, column: string, where: string): TestSpec {
  const [kind, args] =
    typeof t === 'string'
      ? [t, {}]
      : (Object.entries(t as Record<string, Record<string, unknown>>)[0] ?? ['', {}])
  const severity =
    (args as { severity?: string; config?: { severity?: string } }).severity ??
    (args as { config?: { severity?: string } }).config?.severity
  const base = {
    model,
    column,
    severity: severity === 'warn' ? ('warn' as const) : ('error' as const),
    where,
  }
  switch (kind) {
    case 'unique':
    case 'not_null':
      return { name: `${kind}_${model}_${column}`, kind, ...base }
    case 'accepted_values': {
      const values = (args as { values?: (string | number | boolean)[] }).values
      if (!Array.isArray(values)) throw modelError(where, 'accepted_values needs values: [..]')
      return { name: `accepted_values_${model}_${column}`, kind, values, ...base }
    }
    case 'relationships': {
      const a = args as { to?: string; field?: string }
      if (!a.to || !a.field) throw modelError(where, "relationships needs to: ref('model') and field: column")
      return { name: `relationships_${model}_${column}`, kind, to: a.to, field: a.field, ...base }
    }
    default:
      throw modelError(
        where,
        `unknown test "${kind}"; use unique, not_null, accepted_values or relationships, or a SQL file in tests/`,
      )
  }
}
