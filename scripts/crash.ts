/**
 * `npm run test:crash`: the whole-process crash suite at length — every case of
 * `test/e2e/crash.test.ts` with 20 kills (or `--kills n`) and larger inputs, one line per case,
 * exit 1 if any case lost, doubled or stranded a record. `npm test` runs the same cases with 5 kills.
 */

import { type CrashReport, runCrashCase, type SourceKind, type StreamKind } from '../test/e2e/crash-suite.js'
import { serviceUp } from '../test/helpers/services.js'

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}
const kills = arg('kills', 20)
const NATS = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'
const SIZE: Record<SourceKind, number> = { ndjson: 200_000, csv: 200_000, code: 60_000, rest: 3_000 }
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length)
// With --iceberg, the trusted tables keep Iceberg metadata, and what icebird reads must equal the input too.
const iceberg = process.argv.includes('--iceberg')

const nats = await serviceUp('NATS', NATS, 4222, 'the NATS cases')
const reports: CrashReport[] = []
let failed = 0
for (const stream of ['embedded', 'nats'] as StreamKind[]) {
  if (stream === 'nats' && !nats) continue
  for (const source of ['ndjson', 'csv', 'rest', 'code'] as SourceKind[]) {
    if (only && !`${source}/${stream}`.includes(only)) continue
    const r = await runCrashCase({ source, stream, kills, size: SIZE[source], natsUrl: NATS, iceberg })
    const ok =
      r.onceCode === 0 &&
      r.missing === 0 &&
      r.raw.lines === r.expected &&
      r.raw.distinct === r.expected &&
      r.trusted.rows === r.expected &&
      r.trusted.distinct === r.expected &&
      (!iceberg || (r.iceberg?.rows === r.expected && r.iceberg.distinct === r.expected)) &&
      r.lag === 0 &&
      Object.keys(r.stages).length === 2
    if (!ok) failed++
    reports.push(r)
    process.stdout.write(
      `${ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(16)} kills ${r.kills} (${Object.entries(r.stages)
        .map(([s, n]) => `${n} during ${s}`)
        .join(
          ', ',
        )}) input ${r.expected} raw ${r.raw.lines}/${r.raw.distinct} trusted ${r.trusted.rows}/${r.trusted.distinct}${r.iceberg ? ` iceberg ${r.iceberg.rows}/${r.iceberg.distinct}` : ''} missing ${r.missing} lag ${r.lag} once ${r.onceCode} ${r.seconds} s${r.onceStderr ? ` | ${r.onceStderr}` : ''}\n`,
    )
  }
}
process.stdout.write(`${reports.length - failed} of ${reports.length} cases held\n`)
process.exitCode = failed ? 1 : 0
