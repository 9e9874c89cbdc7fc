import { existsSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import * as api from '../src/index.js'

// The deliberate public surface: adding or removing an export means updating this list on purpose.
const RUNTIME_EXPORTS = [
  'doctor',
  'startSimulator',
  'SERVICES',
  'PRESETS',
  'SOURCE_KINDS',
  'createSource',
  'createRestSource',
  'createFileSource',
  'CONFIG_FILES',
  'WeirError',
  'ZONES',
  'attachLake',
  'configSchema',
  'createEmbeddedStream',
  'DIALECTS',
  'tableDdl',
  'compact',
  'refineStatus',
  'createKinesisStream',
  'createNatsStream',
  'checkpointOf',
  'compareOffsets',
  'createEngine',
  'createLocalStore',
  'createS3Store',
  'createStateStore',
  'defaultStreamDir',
  'defineConfig',
  'errorMessage',
  'formatBytes',
  'getTable',
  'ingest',
  'isRetryable',
  'land',
  'listTables',
  'loadConfig',
  'openPipeline',
  'openStore',
  'openStream',
  'parseBytes',
  'parseDuration',
  'parseLakeUri',
  'parseRewind',
  'partitionPath',
  'putTable',
  'refine',
  'rewind',
  'runDemo',
  'syncGlue',
  'tableFiles',
  'tableLocation',
]

describe('public API', () => {
  it('src/index.ts exports exactly the deliberate surface', () => {
    expect(Object.keys(api).sort()).toEqual([...RUNTIME_EXPORTS].sort())
  })

  it("package.json's exports point at built files that export the same names", async () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'))
    const entry = pkg.exports['.']
    expect(existsSync(entry.import)).toBe(true)
    expect(existsSync(entry.types)).toBe(true)
    expect(existsSync(pkg.bin.weir)).toBe(true)
    const built = await import('weir-lake')
    expect(Object.keys(built).sort()).toEqual(Object.keys(api).sort())
  })
})
