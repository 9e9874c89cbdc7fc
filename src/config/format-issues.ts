import type { z } from 'zod'
import { maskUri } from '../core/redact.js'

const SECRET_KEY = /(auth|token|secret|password|passwd|bearer|key|credential)/i

/**
 * One line per problem: the key path, what was expected and what was found.
 * Values under secret-looking keys are never shown, only their type.
 */
export function formatIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  /** Key paths whose values came from the environment: never shown, whatever their key. */
  fromEnv: ReadonlySet<string> = new Set(),
): string[] {
  return issues.map((issue) => {
    const path = issue.path.map(String)
    const where = path.length ? path.join('.') : '(root)'
    const found = describeFound(lookup(input, path), path, fromEnv.has(path.join('.')))
    switch (issue.code) {
      case 'invalid_type':
        return `${where}: expected ${issue.expected}, found ${found}`
      case 'unrecognized_keys':
        return issue.keys
          .map(
            (k) =>
              `${path.length ? `${where}.` : ''}${k}: unknown key (check the spelling; see "weir --help")`,
          )
          .join('; ')
      case 'invalid_value':
        return `${where}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, found ${found}`
      case 'invalid_union':
        return `${where}: ${unionHint(issue)}, found ${found}`
      default: {
        // A check that quotes the value itself (an expression's parse error) says it once.
        const value = lookup(input, path)
        const quoted = issue.code === 'custom' && typeof value === 'string' && issue.message.includes(value)
        return quoted ? `${where}: ${issue.message}` : `${where}: ${issue.message}, found ${found}`
      }
    }
  })
}

function unionHint(issue: z.core.$ZodIssueInvalidUnion): string {
  if (issue.discriminator && 'options' in issue && issue.options) {
    return `expected "${issue.discriminator}" to be one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}`
  }
  const first = issue.errors[0]?.[0]
  return first ? first.message : issue.message
}

function lookup(input: unknown, path: string[]): unknown {
  let cur = input
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string, unknown>)[p]
  }
  return cur
}

function describeFound(value: unknown, path: string[], fromEnv: boolean): string {
  if (value === undefined) return 'nothing (the key is missing)'
  if (value === null) return 'null'
  const type = Array.isArray(value) ? 'array' : typeof value
  if (path.some((p) => SECRET_KEY.test(p))) return `a ${type} (value hidden)`
  if (fromEnv) return `a ${type} from the environment (value hidden)`
  if (type === 'object' || type === 'array' || type === 'function') return `a ${type}`
  // A URL typed into the file may still carry a password: its user-info part is masked.
  const shown = JSON.stringify(typeof value === 'string' ? maskUri(value) : value)
  return `${type} ${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown}`
}
