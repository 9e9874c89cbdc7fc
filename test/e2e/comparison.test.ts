import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const page = readFileSync('docs/comparison.md', 'utf8')
/** The rows of the seed tables: requirement, config, and the test cell. */
const rows = page
  .slice(page.indexOf('## Each seed'))
  .split('\n')
  .filter((l) => /^\| /.test(l) && !/^\| (requirement|seed) /.test(l) && !/^\|---/.test(l))
  .map((l) => l.split(' | ').map((c) => c.replace(/^\| |\s*\|$/g, '')))
  .filter((cells) => cells.length === 3)

describe('docs/comparison.md', () => {
  it('has a row per requirement of each of the five seeds', () => {
    for (const seed of ['000', '001', '002', '003', '004']) expect(page).toMatch(new RegExp(`### ${seed}: `))
    expect(rows.length).toBeGreaterThanOrEqual(25)
  })

  it('links every requirement to a test that exists; none is left open', () => {
    for (const [requirement, , cell] of rows) {
      expect(cell!.startsWith('**open**'), `${requirement} is still open`).toBe(false)
      const m = /^`(test\/[^`]+\.ts)` — "([^"]+)"$/.exec(cell!)
      expect(m, `${requirement}: ${cell}`).not.toBeNull()
      const [, file, name] = m!
      expect(existsSync(file!), `${requirement}: ${file} does not exist`).toBe(true)
      expect(readFileSync(file!, 'utf8'), `${requirement}: no test named "${name}…" in ${file}`).toContain(
        name,
      )
    }
  })
})
