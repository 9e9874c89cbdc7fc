import { describe, expect, it } from 'vitest'
import { serviceUp } from '../helpers/services.js'
import { type CrashCase, runCrashCase, type SourceKind, type StreamKind } from './crash-suite.js'

const NATS = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'
const nats = await serviceUp('NATS', NATS, 4222, 'the NATS cases of the crash suite')

/** Inputs of `npm test`; `npm run test:crash` runs the same cases with 20 kills and larger inputs. */
const SIZE: Record<SourceKind, number> = { ndjson: 20_000, csv: 20_000, code: 8_000, rest: 1_500 }
const KILLS = 5

// The file sources on the embedded log keep Iceberg metadata too: what icebird reads of the trusted
// table must equal the input as well (their reruns rewrite files under the same names).
const cases: [SourceKind, StreamKind, 'iceberg'?][] = [
  ['ndjson', 'embedded', 'iceberg'],
  ['csv', 'embedded', 'iceberg'],
  ['rest', 'embedded'],
  ['code', 'embedded'],
  ['ndjson', 'nats'],
  ['csv', 'nats'],
  ['rest', 'nats'],
  ['code', 'nats'],
]

describe('weir run under kill -9, as a whole process (no primary key: nothing can hide a duplicate)', () => {
  for (const [source, stream, iceberg] of cases) {
    it.skipIf(stream === 'nats' && !nats)(
      `${source} source on the ${stream} stream${iceberg ? ', Iceberg tables' : ''}, ${KILLS} kills`,
      async () => {
        const c: CrashCase = {
          source,
          stream,
          kills: KILLS,
          size: SIZE[source],
          natsUrl: NATS,
          ...(iceberg ? { iceberg: true } : {}),
        }
        const r = await runCrashCase(c)
        expect(r.onceCode, r.onceStderr).toBe(0)
        expect(r.missing).toBe(0)
        expect(r.raw).toEqual({ lines: r.expected, distinct: r.expected })
        expect(r.trusted).toEqual({ rows: r.expected, distinct: r.expected })
        if (iceberg) expect(r.iceberg).toEqual({ rows: r.expected, distinct: r.expected })
        expect(r.lag).toBe(0)
        // The kills fell in different stages: during the source's runs and during landing and refine.
        expect(Object.keys(r.stages).sort()).toEqual(['ingest', 'land/refine'])
      },
      240_000,
    )
  }
})
