/**
 * The rule language: comparisons (`== != < <= > >=`), `and`/`or`/`not`, arithmetic (`+ - * / %`),
 * `in [..]`, `is null`/`is not null`, numbers, 'strings', true/false/null, and field paths
 * (`data.values.temperature`, `location.name`). Parsed once into a tree and evaluated by walking it:
 * never `eval`, no function calls, no access outside the record.
 *
 * @example compileExpr('data.values.temperature > 30 and location.name in ["toronto", "lisbon"]')
 */
export type Expr =
  | { readonly t: 'lit'; readonly v: Value }
  | { readonly t: 'path'; readonly p: readonly string[] }
  | { readonly t: 'list'; readonly items: readonly Expr[] }
  | { readonly t: 'not'; readonly e: Expr }
  | { readonly t: 'neg'; readonly e: Expr }
  | { readonly t: 'isnull'; readonly e: Expr; readonly negate: boolean }
  | { readonly t: 'bin'; readonly op: string; readonly l: Expr; readonly r: Expr }

export type Value = null | boolean | number | string | readonly Value[]

/** A parse error: where in the expression, and what was expected there. */
export class ExprError extends Error {
  constructor(
    readonly position: number,
    readonly expected: string,
    readonly found: string,
  ) {
    super(`at position ${position + 1}: expected ${expected}, found ${found}`)
  }
}

interface Token {
  readonly kind: 'num' | 'str' | 'id' | 'op' | 'end'
  readonly text: string
  readonly value?: number | string
  readonly pos: number
}

const OPS = ['==', '!=', '<=', '>=', '<', '>', '+', '-', '*', '/', '%', '(', ')', '[', ']', ',']

function tokenize(src: string): Token[] {
  const out: Token[] = []
  let i = 0
  while (i < src.length) {
    const c = src[i]!
    if (/\s/.test(c)) {
      i++
      continue
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?/.exec(src.slice(i))!
      out.push({ kind: 'num', text: m[0], value: Number(m[0]), pos: i })
      i += m[0].length
      continue
    }
    if (c === '"' || c === "'") {
      let j = i + 1
      let s = ''
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) j++
        s += src[j]
        j++
      }
      if (j >= src.length) throw new ExprError(i, `a closing ${c}`, 'the end of the expression')
      out.push({ kind: 'str', text: src.slice(i, j + 1), value: s, pos: i })
      i = j + 1
      continue
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(src.slice(i))!
      out.push({ kind: 'id', text: m[0], pos: i })
      i += m[0].length
      continue
    }
    const op = OPS.find((o) => src.startsWith(o, i))
    if (op) {
      out.push({ kind: 'op', text: op, pos: i })
      i += op.length
      continue
    }
    if (c === '=') throw new ExprError(i, '"==" to compare', '"="')
    throw new ExprError(i, 'an operator, a value or a field', `"${c}"`)
  }
  out.push({ kind: 'end', text: '', pos: src.length })
  return out
}

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'null', 'true', 'false'])

/** Parses an expression; throws ExprError with the position and what was expected. */
export function compileExpr(src: string): Expr {
  return new ExprParser(tokenize(src)).parse()
}

/** Recursive descent, one method per precedence level (or, and, not, comparison, +, *, unary, primary). */
class ExprParser {
  private k = 0
  constructor(private readonly tokens: readonly Token[]) {}

  parse(): Expr {
    const e = this.or()
    if (this.peek().kind !== 'end')
      throw new ExprError(
        this.peek().pos,
        'an operator (and, or, ==, <, +, ...) or the end',
        found(this.peek()),
      )
    return e
  }

  private peek(): Token {
    return this.tokens[this.k]!
  }

  private expect(text: string, what: string): void {
    const t = this.peek()
    if (t.text !== text || t.kind === 'str') throw new ExprError(t.pos, what, found(t))
    this.k++
  }

  private or(): Expr {
    let l = this.and()
    while (isWord(this.peek(), 'or')) {
      this.k++
      l = { t: 'bin', op: 'or', l, r: this.and() }
    }
    return l
  }
  private and(): Expr {
    let l = this.not()
    while (isWord(this.peek(), 'and')) {
      this.k++
      l = { t: 'bin', op: 'and', l, r: this.not() }
    }
    return l
  }
  private not(): Expr {
    if (isWord(this.peek(), 'not')) {
      this.k++
      return { t: 'not', e: this.not() }
    }
    return this.comparison()
  }
  private comparison(): Expr {
    const l = this.additive()
    const t = this.peek()
    if (t.kind === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.text)) {
      this.k++
      return { t: 'bin', op: t.text, l, r: this.additive() }
    }
    if (isWord(t, 'in')) {
      this.k++
      return { t: 'bin', op: 'in', l, r: this.additive() }
    }
    if (isWord(t, 'not') && isWord(this.tokens[this.k + 1]!, 'in')) {
      this.k += 2
      return { t: 'not', e: { t: 'bin', op: 'in', l, r: this.additive() } }
    }
    if (isWord(t, 'is')) {
      this.k++
      const negate = isWord(this.peek(), 'not')
      if (negate) this.k++
      if (!isWord(this.peek(), 'null'))
        throw new ExprError(this.peek().pos, '"null" after "is"', found(this.peek()))
      this.k++
      return { t: 'isnull', e: l, negate }
    }
    return l
  }
  private additive(): Expr {
    let l = this.multiplicative()
    while (this.peek().kind === 'op' && (this.peek().text === '+' || this.peek().text === '-')) {
      const op = this.peek().text
      this.k++
      l = { t: 'bin', op, l, r: this.multiplicative() }
    }
    return l
  }
  private multiplicative(): Expr {
    let l = this.unary()
    while (this.peek().kind === 'op' && ['*', '/', '%'].includes(this.peek().text)) {
      const op = this.peek().text
      this.k++
      l = { t: 'bin', op, l, r: this.unary() }
    }
    return l
  }
  private unary(): Expr {
    if (this.peek().kind === 'op' && this.peek().text === '-') {
      this.k++
      return { t: 'neg', e: this.unary() }
    }
    return this.primary()
  }
  private primary(): Expr {
    const t = this.peek()
    if (t.kind === 'num' || t.kind === 'str') {
      this.k++
      return { t: 'lit', v: t.value! }
    }
    if (t.kind === 'id') {
      if (t.text === 'true' || t.text === 'false') {
        this.k++
        return { t: 'lit', v: t.text === 'true' }
      }
      if (t.text === 'null') {
        this.k++
        return { t: 'lit', v: null }
      }
      if (KEYWORDS.has(t.text)) throw new ExprError(t.pos, 'a value or a field', found(t))
      this.k++
      return { t: 'path', p: t.text.split('.') }
    }
    if (t.kind === 'op' && t.text === '(') {
      this.k++
      const e = this.or()
      this.expect(')', 'a closing ")"')
      return e
    }
    if (t.kind === 'op' && t.text === '[') {
      this.k++
      const items: Expr[] = []
      if (!(this.peek().kind === 'op' && this.peek().text === ']')) {
        items.push(this.or())
        while (this.peek().kind === 'op' && this.peek().text === ',') {
          this.k++
          items.push(this.or())
        }
      }
      this.expect(']', 'a "," or a closing "]"')
      return { t: 'list', items }
    }
    throw new ExprError(
      t.pos,
      'a value (number, \'string\', true, false, null, a field, "(" or "[")',
      found(t),
    )
  }
}

const found = (t: Token) => (t.kind === 'end' ? 'the end of the expression' : `"${t.text}"`)
const isWord = (t: Token, w: string) => t.kind === 'id' && t.text === w
