import { type AlertEvent, watchAlerts } from '../../alerts/watch.js'
import type { StageSummary } from '../pipeline.js'
import type { Resources } from '../resources.js'
import { timed } from '../summary.js'

/** Evaluates the alert rules on the stream and delivers what fires; undelivered alerts make it `failed`. */
export async function alertsStage(
  p: Resources,
  signal?: AbortSignal,
  follow?: boolean,
  onEvent?: (e: AlertEvent) => void,
): Promise<StageSummary> {
  const s = await p.stream()
  const [r, seconds] = await timed(() =>
    watchAlerts(s, p.store, p.state, p.config.alerts, {
      ...(signal ? { signal } : {}),
      ...(follow ? { follow } : {}),
      ...(onEvent ? { onEvent } : {}),
    }),
  )
  return {
    stage: 'alerts',
    records: r.records,
    files: 0,
    bytes: 0,
    errors: r.failed,
    seconds,
    tables: {},
    notes: [`${r.events} alert events`],
    ...(r.failed
      ? {
          outcome: 'failed' as const,
          reason: `${r.failed} alert notification(s) could not be delivered after their retries (last: ${r.lastError}); see weir alerts history`,
        }
      : {}),
  }
}
