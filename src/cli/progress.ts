import type { SingleBar } from 'cli-progress'
import type { ProgressEvent } from '../core/progress.js'
import { formatBytes } from '../core/units.js'
import { divertText, type Log } from './log.js'

export interface ProgressDrawer {
  readonly update: (e: ProgressEvent) => void
  /** Clears the bars, leaving the lines above them as they were. */
  stop(): void
}

/**
 * Progress on a terminal (stderr), one line per source, table or file: a bar with percentage, rate
 * and ETA where the total is known, else the count and its rate. Nothing at all when the output is
 * not a terminal, is JSON, or is quieter than info: logs and pipes get only the result lines.
 */
export async function progressDrawer(log: Log): Promise<ProgressDrawer | undefined> {
  if (!log.terminal || log.format !== 'text' || !log.enabled('info') || !process.stderr.isTTY)
    return undefined
  const { MultiBar, Presets } = await import('cli-progress')
  const bars = new MultiBar(
    {
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      stopOnComplete: false,
      etaBuffer: 20,
      fps: 8,
    },
    Presets.shades_classic,
  )
  const lines = new Map<string, SingleBar>()
  const started = Date.now()
  const update = (e: ProgressEvent) => {
    const key = `${e.stage} ${e.label}`
    let line = lines.get(key)
    const known = e.total !== undefined && e.total > 0
    const elapsed = Math.max(0.001, (Date.now() - started) / 1000)
    // A rate of batches says little: records per second does, where the stage counts them.
    const perSecond = e.unit === 'bytes' || e.records === undefined ? e.done / elapsed : e.records / elapsed
    const amount = (n: number) =>
      e.unit === 'bytes' ? formatBytes(n) : `${n.toLocaleString('en-US')} ${e.unit}`
    const payload = {
      what: key.padEnd(22).slice(0, 22),
      amount: known ? `${amount(e.done)} of ${amount(e.total!)}` : amount(e.done),
      rate:
        e.unit === 'bytes'
          ? `${formatBytes(perSecond)}/s`
          : `${Math.round(perSecond).toLocaleString('en-US')} ${e.records === undefined ? e.unit : 'records'}/s`,
      records:
        e.records !== undefined && e.unit !== 'records'
          ? `  ${e.records.toLocaleString('en-US')} records`
          : '',
    }
    if (!line) {
      const format = known
        ? '{what} [{bar}] {percentage}%  {amount}  {rate}  ETA {eta_formatted}{records}'
        : '{what} {amount}  {rate}{records}'
      line = bars.create(known ? e.total! : 1, 0, payload, { format })
      lines.set(key, line)
    }
    line.update(known ? e.done : 0, payload)
  }
  let stopped = false
  const stop = () => {
    if (stopped) return
    stopped = true
    divertText(undefined)
    bars.stop()
  }
  // Notes print above the bars; a result line ends them (it comes once the work is done).
  divertText((stream, text) => {
    if (stream === 'err') {
      bars.log(text)
      return true
    }
    stop()
    return false
  })
  return { update: (e) => !stopped && update(e), stop }
}
