import { execFileSync } from 'node:child_process'
import { type BenchResult, median } from './types.js'

/** Start-up time of `weir --help` (acceptance: under 300 ms) against bare `node -e 0`. */
export async function cliHelp(runs = 15): Promise<BenchResult> {
  const time = (args: string[]) => {
    const t0 = performance.now()
    execFileSync(process.execPath, args, { stdio: 'ignore' })
    return performance.now() - t0
  }
  time(['bin/weir.js', '--help']) // warm the file cache
  const weir = median(Array.from({ length: runs }, () => time(['bin/weir.js', '--help'])))
  const node = median(Array.from({ length: runs }, () => time(['-e', '0'])))
  return {
    name: 'cli-help',
    unit: 'ms',
    value: weir,
    baseline: { name: 'node -e 0', value: node },
    ratio: weir / node,
    notes: `median of ${runs} runs of \`weir --help\`; target < 300 ms`,
  }
}
