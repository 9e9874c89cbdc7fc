/**
 * A URI as it may be printed: the user-info part (`user:password@`) masked, since a lake or
 * database URL is where people put credentials.
 *
 * @example maskUri('https://u:secret@host/x') // 'https://***@host/x'
 * @example maskUri('postgres:/u:secret@db/x') // 'postgres:/***@db/x'
 */
export function maskUri(uri: string): string {
  // Also a mistyped URL (one slash, none): that is exactly when it gets printed in an error.
  return uri.replace(/\b([a-z][a-z0-9+.-]*:\/{0,2})[^/@\s]+@/gi, '$1***@')
}

const known = new Set<string>()
const SECRET_PARAM = /(key|token|secret|password|signature|sig|auth)/i

/**
 * Remembers a value that must never be printed or kept in an error: a credential from the config,
 * or a variable interpolated into it. Of a URL only its password and credential-like query values
 * are secret (the rest names a place a user needs to see).
 */
export function registerSecret(value: string): void {
  const parts: string[] = []
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && URL.canParse(value)) {
    const u = new URL(value)
    if (u.password) parts.push(u.password, decodeURIComponent(u.password))
    for (const [k, v] of u.searchParams) if (SECRET_PARAM.test(k)) parts.push(v)
  } else parts.push(value)
  for (const p of parts) if (p.length >= 4) known.add(p)
}

/** A text as it may be printed or stored: URL passwords masked and every registered secret as `***`. */
export function scrub(text: string): string {
  let out = maskUri(text)
  for (const s of known) {
    if (out.includes(s)) out = out.split(s).join('***')
    const encoded = encodeURIComponent(s)
    if (encoded !== s && out.includes(encoded)) out = out.split(encoded).join('***')
  }
  return out
}
