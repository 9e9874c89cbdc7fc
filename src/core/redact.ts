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
