/** A DuckDB column type, parsed: the catalog stores DuckDB's type text. */
export type Type =
  | { readonly kind: 'scalar'; readonly name: string; readonly args: readonly string[] }
  | { readonly kind: 'list'; readonly of: Type }
  | { readonly kind: 'struct'; readonly fields: readonly (readonly [string, Type])[] }
  | { readonly kind: 'map'; readonly key: Type; readonly value: Type }

/** Parses DuckDB type text: `STRUCT(a BIGINT, "b c" VARCHAR[])[]`, `MAP(VARCHAR, DOUBLE)`, `DECIMAL(18,3)`. */
export function parse(text: string): Type {
  return new TypeParser(text).type()
}

/** A recursive-descent reader of DuckDB type text, one method per production. */
class TypeParser {
  private i = 0
  constructor(private readonly text: string) {}

  type(): Type {
    const name = this.word().toUpperCase()
    this.ws()
    let t: Type = name === 'STRUCT' ? this.struct() : name === 'MAP' ? this.map() : this.scalar(name)
    this.ws()
    while (this.text[this.i] === '[' && this.text[this.i + 1] === ']') {
      this.i += 2
      t = { kind: 'list', of: t }
      this.ws()
    }
    return t
  }

  private struct(): Type {
    this.expect('(')
    const fields: [string, Type][] = []
    for (;;) {
      const n = this.word()
      fields.push([n, this.type()])
      this.ws()
      if (this.text[this.i] === ',') this.i++
      else break
    }
    this.expect(')')
    return { kind: 'struct', fields }
  }

  private map(): Type {
    this.expect('(')
    const key = this.type()
    this.expect(',')
    const value = this.type()
    this.expect(')')
    return { kind: 'map', key, value }
  }

  private scalar(word: string): Type {
    let name = word
    const zone = /^WITH TIME ZONE\b/i.exec(this.text.slice(this.i))
    if (name === 'TIMESTAMP' && zone) {
      name = 'TIMESTAMP WITH TIME ZONE'
      this.i += zone[0].length
      this.ws()
    }
    const args: string[] = []
    if (this.text[this.i] === '(') {
      this.i++
      for (;;) {
        this.ws()
        const start = this.i
        while (this.i < this.text.length && this.text[this.i] !== ',' && this.text[this.i] !== ')') this.i++
        args.push(this.text.slice(start, this.i).trim())
        if (this.text[this.i] === ',') this.i++
        else break
      }
      this.expect(')')
    }
    return { kind: 'scalar', name, args }
  }

  private ws(): void {
    while (this.text[this.i] === ' ') this.i++
  }

  /** A name: bare, or double-quoted with "" for a quote. */
  private word(): string {
    this.ws()
    const text = this.text
    if (text[this.i] === '"') {
      let out = ''
      this.i++
      while (this.i < text.length) {
        if (text[this.i] === '"' && text[this.i + 1] === '"') {
          out += '"'
          this.i += 2
        } else if (text[this.i] === '"') {
          this.i++
          break
        } else out += text[this.i++]
      }
      return out
    }
    const start = this.i
    while (this.i < text.length && /[A-Za-z0-9_]/.test(text[this.i]!)) this.i++
    return text.slice(start, this.i)
  }

  private expect(c: string): void {
    this.ws()
    if (this.text[this.i] !== c) throw new Error(`expected "${c}" at ${this.i} in ${this.text}`)
    this.i++
  }
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
