import { WeirError } from './errors.js'

const BYTE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1_000,
  mb: 1_000_000,
  gb: 1_000_000_000,
  kib: 1_024,
  mib: 1_048_576,
  gib: 1_073_741_824,
}

/**
 * Parses a size such as `10MB`, `512 KiB` or a plain number of bytes.
 * @example parseBytes('10MB') // 10_000_000
 */
export function parseBytes(value: string | number): number {
  if (typeof value === 'number') return value
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value)
  const unit = BYTE_UNITS[(m?.[2] || 'b').toLowerCase()]
  if (!m || unit === undefined) {
    throw new WeirError(`invalid size "${value}": use a number with B, KB, MB, GB, KiB, MiB or GiB`, {
      code: 'INVALID_SIZE',
      stage: 'config',
    })
  }
  return Math.round(Number(m[1]) * unit)
}

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  sec: 1_000,
  second: 1_000,
  seconds: 1_000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
}

/**
 * Parses a duration such as `60s`, `5 minutes` or `1h` (the forms EventBridge's `rate()` and Prometheus use).
 * @example parseDuration('5 minutes') // 300_000
 */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return value
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(value)
  const unit = DURATION_UNITS[(m?.[2] ?? '').toLowerCase()]
  if (!m || unit === undefined) {
    throw new WeirError(
      `invalid duration "${value}": use a number with ms, s, m, h or d (e.g. "60s", "5 minutes")`,
      {
        code: 'INVALID_DURATION',
        stage: 'config',
      },
    )
  }
  return Math.round(Number(m[1]) * unit)
}

/** A byte count for people: `1.2 MB`. */
export function formatBytes(n: number): string {
  if (n < 1_000) return `${n} B`
  const units = ['KB', 'MB', 'GB', 'TB']
  let v = n
  let i = -1
  while (v >= 1_000 && i < units.length - 1) {
    v /= 1_000
    i++
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`
}
