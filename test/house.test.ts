import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { importCircles, readHouse, stageCrossings } from './helpers/house.js'

const root = join(import.meta.dirname, '..')
const files = readHouse(root)

/** Each port: its registry of adapters, and the contract suite every adapter runs. */
const PORTS = {
  sources: { registry: 'src/sources/registry.ts', contract: 'test/contract/source.contract.ts' },
  stream: { registry: 'src/stream/registry.ts', contract: 'test/contract/stream.contract.ts' },
  storage: { registry: 'src/storage/registry.ts', contract: 'test/contract/storage.contract.ts' },
  'serving stores': {
    registry: 'src/serve/stores/registry.ts',
    contract: 'test/contract/serving.contract.ts',
  },
  'alert channels': {
    registry: 'src/alerts/channels/registry.ts',
    contract: 'test/contract/channel.contract.ts',
  },
  warehouse: { registry: 'src/warehouse/registry.ts', contract: 'test/contract/warehouse.contract.ts' },
  // The catalog and the state are documents on the storage port: their suite runs on each storage adapter.
  'catalog and state': {
    registry: 'src/storage/registry.ts',
    contract: 'test/contract/lake-state.contract.ts',
  },
} as const

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  )
}

describe('the house (STYLE.md)', () => {
  it('has no file in src/ over 300 lines', () => {
    expect(files.filter((f) => f.lines > 300).map((f) => `${f.path}: ${f.lines}`)).toEqual([])
  })

  it('has no import circle (type-only imports aside)', () => {
    expect(importCircles(files)).toEqual([])
  })

  it('has no stage folder importing another, except the stream port', () => {
    expect(stageCrossings(files)).toEqual([])
  })

  it('has at most three functions over 80 lines, each saying why', () => {
    const long = files.flatMap((f) =>
      f.functions
        .filter((fn) => fn.lines > 80)
        .map((fn) => ({ where: `${f.path}:${fn.line} ${fn.name}`, ...fn })),
    )
    expect(long.length, long.map((l) => `${l.where} (${l.lines})`).join('\n')).toBeLessThanOrEqual(3)
    for (const l of long) expect(l.comment, l.where).toMatch(/on purpose/i)
  })

  it('gives every port a registry and a contract suite that a test runs', () => {
    const tests = testFiles(join(root, 'test')).map((f) => readFileSync(f, 'utf8'))
    for (const [port, { registry, contract }] of Object.entries(PORTS)) {
      expect(existsSync(join(root, registry)), `${port}: ${registry}`).toBe(true)
      expect(existsSync(join(root, contract)), `${port}: ${contract}`).toBe(true)
      const name = contract.replace(/^test\/contract\//, '').replace(/\.ts$/, '.js')
      expect(
        tests.some((t) => t.includes(`contract/${name}'`)),
        `${port}: no test runs ${contract}`,
      ).toBe(true)
    }
  })
})
