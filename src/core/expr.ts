import type { Expr, Value } from './expr-parse.js'

export { compileExpr, type Expr, ExprError, type Value } from './expr-parse.js'

/** Evaluates against a record. A missing field is null; comparing with null is false, except `==`/`is null`. */
export function evaluate(e: Expr, record: unknown): Value {
  switch (e.t) {
    case 'lit':
      return e.v
    case 'path': {
      let v: unknown = record
      // Own fields only: `constructor` or `__proto__` must not reach the prototype chain.
      for (const part of e.p)
        v =
          v !== null && typeof v === 'object' && Object.hasOwn(v, part)
            ? (v as Record<string, unknown>)[part]
            : undefined
      return v === undefined ? null : (v as Value)
    }
    case 'list':
      return e.items.map((i) => evaluate(i, record))
    case 'not':
      return !truthy(evaluate(e.e, record))
    case 'neg': {
      const v = evaluate(e.e, record)
      return typeof v === 'number' ? -v : null
    }
    case 'isnull': {
      const isNull = evaluate(e.e, record) === null
      return e.negate ? !isNull : isNull
    }
    case 'bin': {
      if (e.op === 'and') return truthy(evaluate(e.l, record)) && truthy(evaluate(e.r, record))
      if (e.op === 'or') return truthy(evaluate(e.l, record)) || truthy(evaluate(e.r, record))
      const l = evaluate(e.l, record)
      const r = evaluate(e.r, record)
      switch (e.op) {
        case '==':
          return equal(l, r)
        case '!=':
          return !equal(l, r)
        case 'in':
          return Array.isArray(r) && r.some((x) => equal(l, x))
      }
      if (l === null || r === null)
        return e.op === '+' || e.op === '-' || e.op === '*' || e.op === '/' || e.op === '%' ? null : false
      if (['<', '<=', '>', '>='].includes(e.op)) {
        if (typeof l !== typeof r || (typeof l !== 'number' && typeof l !== 'string')) return false
        const a = l as number | string
        const b = r as number | string
        return e.op === '<' ? a < b : e.op === '<=' ? a <= b : e.op === '>' ? a > b : a >= b
      }
      if (e.op === '+' && typeof l === 'string' && typeof r === 'string') return l + r
      if (typeof l !== 'number' || typeof r !== 'number') return null
      switch (e.op) {
        case '+':
          return l + r
        case '-':
          return l - r
        case '*':
          return l * r
        case '/':
          return r === 0 ? null : l / r
        default:
          return r === 0 ? null : l % r
      }
    }
  }
}

export function truthy(v: Value): boolean {
  return v !== null && v !== false && v !== 0 && v !== ''
}

function equal(a: Value, b: Value): boolean {
  if (Array.isArray(a) || Array.isArray(b)) return JSON.stringify(a) === JSON.stringify(b)
  return a === b
}

/**
 * The expression as a tree of closures (no `eval`, no `Function`): the same semantics as `evaluate`,
 * about a hundred times faster on hot rules, since the tree is walked once, here.
 */
export function toFunction(e: Expr): (record: unknown) => Value {
  switch (e.t) {
    case 'lit': {
      const v = e.v
      return () => v
    }
    case 'path': {
      const parts = e.p
      return (record) => {
        let v: unknown = record
        for (const part of parts)
          v =
            v !== null && typeof v === 'object' && Object.hasOwn(v, part)
              ? (v as Record<string, unknown>)[part]
              : undefined
        return v === undefined ? null : (v as Value)
      }
    }
    case 'list': {
      const items = e.items.map(toFunction)
      return (r) => items.map((f) => f(r))
    }
    case 'not': {
      const f = toFunction(e.e)
      return (r) => !truthy(f(r))
    }
    case 'neg': {
      const f = toFunction(e.e)
      return (r) => {
        const v = f(r)
        return typeof v === 'number' ? -v : null
      }
    }
    case 'isnull': {
      const f = toFunction(e.e)
      return e.negate ? (r) => f(r) !== null : (r) => f(r) === null
    }
    case 'bin': {
      const l = toFunction(e.l)
      const r = toFunction(e.r)
      if (e.op === 'and') return (x) => truthy(l(x)) && truthy(r(x))
      if (e.op === 'or') return (x) => truthy(l(x)) || truthy(r(x))
      const op = e.op
      // Everything else shares evaluate's rules: one place says what null and types do.
      const node = { t: 'bin', op, l: { t: 'lit', v: null }, r: { t: 'lit', v: null } } as const
      if (op === '>' || op === '<' || op === '>=' || op === '<=') {
        return (x) => {
          const a = l(x)
          const b = r(x)
          if (typeof a === 'number' && typeof b === 'number')
            return op === '>' ? a > b : op === '<' ? a < b : op === '>=' ? a >= b : a <= b
          return evaluate({ ...node, l: { t: 'lit', v: a }, r: { t: 'lit', v: b } }, null)
        }
      }
      return (x) => evaluate({ ...node, l: { t: 'lit', v: l(x) }, r: { t: 'lit', v: r(x) } }, null)
    }
  }
}
