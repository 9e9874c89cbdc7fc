import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { cliMarkdown, configJsonSchema, configMarkdown, presetsMarkdown } from '../../scripts/config-docs.js'

describe('config reference', () => {
  it('docs/config.md and weir.schema.json match the schema (run `npm run docs` after changing it)', () => {
    expect(readFileSync('docs/config.md', 'utf8')).toBe(configMarkdown())
    expect(readFileSync('docs/presets.md', 'utf8')).toBe(presetsMarkdown())
    expect(readFileSync('docs/cli.md', 'utf8')).toBe(cliMarkdown())
    expect(JSON.parse(readFileSync('weir.schema.json', 'utf8'))).toEqual(configJsonSchema())
  })

  it('documents every key with a description', () => {
    const rows = configMarkdown()
      .split('\n')
      .filter((l) => l.startsWith('| `'))
    expect(rows.length).toBeGreaterThan(15)
    for (const r of rows) expect(r.split(/(?<!\\)\|/)[4]?.trim(), r).not.toBe('')
  })
})
