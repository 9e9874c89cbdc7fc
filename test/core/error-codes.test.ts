import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES, httpStatus } from '../../src/core/error-codes.js'

/** Every `code: 'X'` given to a WeirError in src/, and where. */
function codesInSource(dir = 'src'): { code: string; where: string }[] {
  const out: { code: string; where: string }[] = []
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith('.ts')) continue
    const file = join(e.parentPath, e.name)
    const text = readFileSync(file, 'utf8')
    if (!text.includes('WeirError')) continue
    for (const m of text.matchAll(/\bcode: (?:[^,'}]*\? )?'([A-Z][A-Z0-9_]+)'(?: : '([A-Z][A-Z0-9_]+)')?/g))
      for (const c of [m[1], m[2]]) if (c) out.push({ code: c, where: file })
  }
  return out
}

describe('error codes', () => {
  it('every code a WeirError is given is in the closed list (the type checks it too)', () => {
    const used = codesInSource()
    expect(used.length).toBeGreaterThan(60)
    expect(used.filter((u) => !(u.code in ERROR_CODES))).toEqual([])
  })

  it('the list holds no code nothing uses', () => {
    const used = new Set(codesInSource().map((u) => u.code))
    expect(Object.keys(ERROR_CODES).filter((c) => !used.has(c))).toEqual([])
  })

  it('maps what does not exist to 404, a bad request to 400, and anything unknown to 500', () => {
    expect(httpStatus('UI_NOT_FOUND')).toBe(404)
    expect(httpStatus('SANDBOX_REFUSED')).toBe(400)
    expect(httpStatus('SOURCE_CONNECT')).toBe(503)
    expect(httpStatus('NOT_A_CODE')).toBe(500)
    expect(httpStatus(undefined)).toBe(500)
  })
})
