import { execFileSync } from 'node:child_process'
import { type BenchResult, median } from './types.js'

/** Publishes the backlog in one process, then lands it in another. */
const landRun = (dir: string, records: number, maxRecords: number, baseline = true) => {
  child(['publish', dir, String(records)], false)
  return child(['throughput', dir, String(records), String(maxRecords), ...(baseline ? [] : ['no-baseline'])])
}

const child = (args: string[], json = true) => {
  const out = execFileSync(process.execPath, ['bench/landing-child.mjs', ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  })
  return json ? JSON.parse(out) : undefined
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!

/**
 * Landing from the embedded stream to a local raw zone: throughput against a bare read-then-write
 * of the same bytes into the same number of files (with and without an fsync per file), in the
 * same process and run; peak RSS over 1 GB; latency from publish to a visible file at maxAge 1 s.
 */
export async function landingBench(dir: string, records: number, rssMegabytes: number): Promise<BenchResult> {
  // Files of 100 records (the seed's limit), and files of up to 10 MB (the default size limit).
  // Three runs of the 100-record case, the median kept: this machine's disk varies from run to run.
  const runs = [0, 1, 2].map((i) => landRun(`${dir}/small${i}`, records, 100))
  const byRatio = [...runs].sort((x, y) => x.bareSeconds / x.landSeconds - y.bareSeconds / y.landSeconds)
  const small = byRatio[1]
  const large = landRun(`${dir}/large`, records, 1_000_000)
  const gb = landRun(`${dir}/gb`, Math.round((rssMegabytes * 1e6) / 560), 1_000_000, false)
  const lat = child(['latency', `${dir}/latency`, '15'])
  const mb = (r: { bytes: number; landSeconds: number }) => r.bytes / 1e6 / r.landSeconds
  const rate = (r: { records: number }, s: number) => Math.round(r.records / s).toLocaleString('en-US')
  return {
    name: 'landing',
    unit: 'records/s',
    value: small.records / small.landSeconds,
    baseline: {
      name: 'bare read then writeFile of the same bytes into as many files',
      value: small.records / small.bareSeconds,
    },
    ratio: small.bareSeconds / small.landSeconds,
    notes: [
      `${small.records.toLocaleString('en-US')} records of ~560 B in ${small.files} files of 100: ${rate(small, small.landSeconds)} records/s, ${mb(small).toFixed(0)} MB/s (each file and manifest fsynced, intents recorded first); goal ratio >= 0.5; against the same bare writes fsynced per file the ratio is ${(small.syncedSeconds / small.landSeconds).toFixed(2)}`,
      `in files of up to 10 MB (${large.files} files): ${rate(large, large.landSeconds)} records/s, ${mb(large).toFixed(0)} MB/s, ratio ${(large.bareSeconds / large.landSeconds).toFixed(2)} to bare writes`,
      `${rssMegabytes} MB landed (${gb.records.toLocaleString('en-US')} records): peak RSS ${Math.round(gb.maxRssMB)} MB (goal < 300 MB), ${rate(gb, gb.landSeconds)} records/s`,
      `publish → visible file at maxAge 1 s, one record every 20 ms for 15 s (${lat.oldest.length} files): oldest record p50 ${Math.round(median(lat.oldest))} ms, p95 ${Math.round(pct(lat.oldest, 95))} ms; newest record p50 ${Math.round(median(lat.newest))} ms`,
    ].join('; '),
    details: {
      small,
      large,
      gb,
      latency: {
        oldestP50: median(lat.oldest),
        oldestP95: pct(lat.oldest, 95),
        newestP50: median(lat.newest),
        files: lat.oldest.length,
      },
    },
  }
}
