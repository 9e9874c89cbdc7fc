import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { interpolate } from '../../src/config/interpolate.js'
import { configSchema } from '../../src/config/schema.js'

/** Every YAML example in the README and the docs is a valid config (as a newcomer would paste it). */
describe('documentation examples', () => {
  for (const file of ['README.md', 'docs/recipes.md', 'docs/deployment.md']) {
    it(`the YAML blocks of ${file} parse as configs`, () => {
      const blocks = [...readFileSync(file, 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!)
      for (const text of blocks) {
        // ${VARS} as the loader fills them (here: any value that is also a URL).
        const filled = interpolate(parse(text), new Proxy({}, { get: () => 'https://example.com/x' }), 'doc')
        let result = configSchema.safeParse(filled)
        // A fragment (an `alerts:` or `serve:` block) names sources declared elsewhere in the config
        // it is pasted into: those, and only those, are stood in for.
        const missing = (result.error?.issues ?? []).map(
          (i) => /^no source named "([^"]+)"/.exec(i.message)?.[1],
        )
        if (missing.length && missing.every(Boolean) && !('sources' in (filled as object))) {
          const sources = Object.fromEntries(
            missing.map((n) => [n, { kind: 'demo', dataset: 'x', count: 1 }]),
          )
          result = configSchema.safeParse({ ...(filled as object), sources })
        }
        expect(result.success, `${text}\n${JSON.stringify(result.error?.issues)}`).toBe(true)
      }
    })
  }
})
