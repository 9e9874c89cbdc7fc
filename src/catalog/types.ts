/** A DuckDB column type, parsed: the catalog stores DuckDB's type text. */
export type Type =
  | { readonly kind: 'scalar'; readonly name: string; readonly args: readonly string[] }
  | { readonly kind: 'list'; readonly of: Type }
  | { readonly kind: 'struct'; readonly fields: readonly (readonly [string, Type])[] }
  | { readonly kind: 'map'; readonly key: Type; readonly value: Type }

/** Parses DuckDB type text: `STRUCT(a BIGINT, "b c" VARCHAR[])[]`, `MAP(VARCHAR, DOUBLE)`, `DECIMAL(18,3)`. */
export function parse(text: string): Type {
  let i = 0
  const ws = () => {
    while (text[i] === ' ') i++
  }
  const word = (): string => {
    ws()
    if (text[i] === '"') {
      let out = ''
      i++
      while (i < text.length) {
        if (text[i] === '"' && text[i + 1] === '"') {
          out += '"'
          i += 2
        } else if (text[i] === '"') {
          i++
          break
        } else out += text[i++]
      }
      return out
    }
    const start = i
    while (i < text.length && /[A-Za-z0-9_]/.test(text[i]!)) i++
    return text.slice(start, i)
  }
  const expect = (c: string) => {
    ws()
    if (text[i] !== c) throw new Error(`expected "${c}" at ${i} in ${text}`)
    i++
  }
  const type = (): Type => {
    let name = word().toUpperCase()
    let t: Type
    ws()
    if (name === 'STRUCT') {
      expect('(')
      const fields: [string, Type][] = []
      for (;;) {
        const n = word()
        fields.push([n, type()])
        ws()
        if (text[i] === ',') i++
        else break
      }
      expect(')')
      t = { kind: 'struct', fields }
    } else if (name === 'MAP') {
      expect('(')
      const key = type()
      expect(',')
      const value = type()
      expect(')')
      t = { kind: 'map', key, value }
    } else {
      const zone = /^WITH TIME ZONE\b/i.exec(text.slice(i))
      if (name === 'TIMESTAMP' && zone) {
        name = 'TIMESTAMP WITH TIME ZONE'
        i += zone[0].length
        ws()
      }
      const args: string[] = []
      if (text[i] === '(') {
        i++
        for (;;) {
          ws()
          const start = i
          while (i < text.length && text[i] !== ',' && text[i] !== ')') i++
          args.push(text.slice(start, i).trim())
          if (text[i] === ',') i++
          else break
        }
        expect(')')
      }
      t = { kind: 'scalar', name, args }
    }
    ws()
    while (text[i] === '[' && text[i + 1] === ']') {
      i += 2
      t = { kind: 'list', of: t }
      ws()
    }
    return t
  }
  return type()
}

/** Back to DuckDB's type text. */
export function typeText(t: Type): string {
  switch (t.kind) {
    case 'list':
      return `${typeText(t.of)}[]`
    case 'map':
      return `MAP(${typeText(t.key)}, ${typeText(t.value)})`
    case 'struct':
      return `STRUCT(${t.fields.map(([n, f]) => `"${n.replaceAll('"', '""')}" ${typeText(f)}`).join(', ')})`
    case 'scalar':
      return t.args.length ? `${t.name}(${t.args.join(',')})` : t.name
  }
}

/** How a column's type moves when a batch brings another: kept, widened, or incompatible. */
export type Widening = 'same' | 'widened' | 'incompatible'

const INTEGERS = ['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT']

/**
 * The type both `a` (the table's) and `b` (a batch's) fit in, by explicit rules: integers widen
 * to the larger integer, then to DOUBLE; DATE to TIMESTAMP; structs gain the other's fields; lists
 * widen their elements; a NULL column (only nulls seen) takes the other type; anything else is
 * incompatible and becomes VARCHAR (a widening that loses the type, reported as such).
 */
export function widen(a: Type, b: Type): { type: Type; how: Widening } {
  if (typeText(a) === typeText(b)) return { type: a, how: 'same' }
  if (isNull(a)) return { type: b, how: 'widened' }
  if (isNull(b)) return { type: a, how: 'same' }
  if (a.kind === 'scalar' && b.kind === 'scalar') {
    const ia = INTEGERS.indexOf(a.name)
    const ib = INTEGERS.indexOf(b.name)
    if (ia >= 0 && ib >= 0) return { type: ia >= ib ? a : b, how: ia >= ib ? 'same' : 'widened' }
    const numeric = (x: Type & { kind: 'scalar' }) =>
      INTEGERS.includes(x.name) || x.name === 'DOUBLE' || x.name === 'FLOAT'
    if (numeric(a) && numeric(b)) {
      return a.name === 'DOUBLE' ? { type: a, how: 'same' } : { type: scalar('DOUBLE'), how: 'widened' }
    }
    if (a.name === 'TIMESTAMP' && b.name === 'DATE') return { type: a, how: 'same' }
    if (a.name === 'DATE' && b.name === 'TIMESTAMP') return { type: b, how: 'widened' }
  }
  if (a.kind === 'list' && b.kind === 'list') {
    const e = widen(a.of, b.of)
    return { type: { kind: 'list', of: e.type }, how: e.how }
  }
  if (a.kind === 'struct' && b.kind === 'struct') {
    const fields = new Map(a.fields.map(([n, t]) => [n, t]))
    let how: Widening = 'same'
    for (const [n, t] of b.fields) {
      const mine = fields.get(n)
      if (!mine) {
        fields.set(n, t)
        if (how === 'same') how = 'widened'
        continue
      }
      const w = widen(mine, t)
      fields.set(n, w.type)
      if (w.how === 'incompatible' || (w.how === 'widened' && how === 'same')) how = w.how
    }
    return { type: { kind: 'struct', fields: [...fields] }, how }
  }
  return { type: scalar('VARCHAR'), how: 'incompatible' }
}

const scalar = (name: string): Type => ({ kind: 'scalar', name, args: [] })
const isNull = (t: Type) => t.kind === 'scalar' && (t.name === 'NULL' || t.name === '"NULL"')
