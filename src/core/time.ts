/** The UTC calendar parts used by path templates: `yyyy`, `mm`, `dd`, `hh`. */
export interface DateParts {
  readonly yyyy: string
  readonly mm: string
  readonly dd: string
  readonly hh: string
}

/** Splits an instant into zero-padded UTC parts, the values of `{yyyy}/{mm}/{dd}` in lake paths. */
export function utcParts(date: Date): DateParts {
  const iso = date.toISOString()
  return { yyyy: iso.slice(0, 4), mm: iso.slice(5, 7), dd: iso.slice(8, 10), hh: iso.slice(11, 13) }
}

const zoned = new Map<string, Intl.DateTimeFormat>()

/**
 * The calendar parts of an instant in an IANA time zone (`Europe/Paris`), for lakes partitioned by
 * local days. UTC takes the fast path.
 */
export function zonedParts(date: Date, timeZone = 'UTC'): DateParts {
  if (timeZone === 'UTC') return utcParts(date)
  let f = zoned.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      hourCycle: 'h23',
    })
    zoned.set(timeZone, f)
  }
  const parts: Record<string, string> = {}
  for (const p of f.formatToParts(date)) parts[p.type] = p.value
  return { yyyy: parts.year!, mm: parts.month!, dd: parts.day!, hh: parts.hour! }
}

/** True when `timeZone` is a zone this runtime knows (IANA name or UTC). */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-CA', { timeZone })
    return true
  } catch {
    return false
  }
}

/** Parses an event time: ISO-8601 text or epoch seconds/milliseconds. Undefined when it is not a time. */
export function parseEventTime(value: unknown): Date | undefined {
  let d: Date | undefined
  if (typeof value === 'string' && value.length >= 10) d = new Date(value)
  else if (typeof value === 'number' && Number.isFinite(value))
    d = new Date(value < 1e11 ? value * 1000 : value)
  return d && !Number.isNaN(d.getTime()) ? d : undefined
}

/**
 * Waits `ms`, or less: it resolves (never rejects) as soon as `signal` aborts, so a stopping
 * process never sits out a backoff.
 *
 * @example await sleep(500, signal)
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const t = setTimeout(done, ms)
    function done() {
      clearTimeout(t)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

/**
 * Calls `fn` once when `signal` aborts, or now if it already has: a listener added after the
 * abort would never run (a SIGTERM that came while a command was starting was lost that way).
 * Returns the function that removes the listener.
 */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  if (signal.aborted) {
    fn()
    return () => undefined
  }
  signal.addEventListener('abort', fn, { once: true })
  return () => signal.removeEventListener('abort', fn)
}

/** Resolves when `signal` aborts (at once if it already has). */
export function whenAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => onAbort(signal, () => resolve()))
}
