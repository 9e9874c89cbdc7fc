import { sleep } from '../core/time.js'
import type { Stream } from '../stream/stream.js'

const CHECK_MS = 1_000
const WAIT_MS = 500

/**
 * Backpressure for one source: a gate awaited before each publish that waits while landing's lag
 * on the source's topic, with the batch, would be over `maxLag` records (landing stopped, failing,
 * or slower than the source), so a stalled landing fills a bounded backlog, not the disk. The lag
 * is read once a second, or sooner when what was let through since could reach the bound; adapters
 * that cannot count it (Kinesis) never wait. A landing that has never committed has no lag yet.
 *
 * @example const gate = backpressure(stream, 'x', 1_000_000, signal, (ms) => waited += ms); await gate(500)
 */
export function backpressure(
  stream: Stream,
  topic: string,
  maxLag: number,
  signal: AbortSignal | undefined,
  onWait: (ms: number) => void,
): (records: number) => Promise<void> {
  let checked = 0
  let lag = 0
  /** Records let through since the lag was read: counted as lag until it is read again. */
  let since = 0
  const read = async () => {
    lag = (await stream.groups())
      .filter((g) => g.group === 'landing' && g.topic === topic)
      .reduce((n, g) => n + (g.lag ?? 0), 0)
    checked = Date.now()
    since = 0
  }
  return async (records) => {
    const t0 = Date.now()
    if (Date.now() - checked >= CHECK_MS || lag + since + records > maxLag) await read()
    while (lag + records > maxLag && !signal?.aborted) {
      await sleep(WAIT_MS, signal)
      await read()
    }
    since += records
    if (Date.now() > t0 + 5) onWait(Date.now() - t0)
  }
}
