import { formatBytes } from '../../core/units.js'
import type { StageSummary } from '../../pipeline/pipeline.js'

/** One line per stage: `land     3,540 records  41 files  1.2 MB  0.31 s`. */
export function summaryLine(s: StageSummary): string {
  const n = (x: number) => x.toLocaleString('en-US')
  const parts = [
    s.stage.padEnd(7),
    `${n(s.records).padStart(7)} records`,
    `${n(s.files).padStart(4)} files`,
    formatBytes(s.bytes).padStart(9),
    `${s.seconds.toFixed(2).padStart(6)} s`,
  ]
  if (s.errors) parts.push(`${n(s.errors)} set aside in _errors/`)
  return [parts.join('  '), ...(s.notes ?? []).map((note) => `         note: ${note}`)].join('\n')
}
