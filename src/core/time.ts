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

/** Parses an event time: ISO-8601 text or epoch seconds/milliseconds. Undefined when it is not a time. */
export function parseEventTime(value: unknown): Date | undefined {
  let d: Date | undefined
  if (typeof value === 'string' && value.length >= 10) d = new Date(value)
  else if (typeof value === 'number' && Number.isFinite(value))
    d = new Date(value < 1e11 ? value * 1000 : value)
  return d && !Number.isNaN(d.getTime()) ? d : undefined
}
