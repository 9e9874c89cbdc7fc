import type { ErrorCode } from './error-codes.js'
import { scrub } from './redact.js'
/** Where an error happened; the CLI and logs show it so a user knows which part to look at. */
export type Stage =
  | 'config'
  | 'storage'
  | 'engine'
  | 'catalog'
  | 'state'
  | 'source'
  | 'stream'
  | 'landing'
  | 'refine'
  | 'model'
  | 'run'
  | 'query'
  | 'alerts'
  | 'serve'
  | 'warehouse'
  | 'cli'

export interface WeirErrorOptions {
  /** One of the closed list in `error-codes.ts`. */
  readonly code: ErrorCode
  readonly stage: Stage
  /** True when the same call may succeed later (network blip, throttling); retry loops ask only this. */
  readonly retryable?: boolean
  readonly cause?: unknown
}

/**
 * An error a user can act on: the message says what failed, where, and what to do.
 * Programmer mistakes stay plain `Error`; everything a user can cause or fix is a `WeirError`.
 *
 * @example
 * throw new WeirError('lake s3://b/p: bucket not found; create it or fix `lake`', { code: 'STORAGE_NOT_FOUND', stage: 'storage' })
 */
export class WeirError extends Error {
  readonly code: ErrorCode
  readonly stage: Stage
  readonly retryable: boolean

  constructor(message: string, options: WeirErrorOptions) {
    // Whatever went into the message, a credential never comes out of it.
    super(scrub(message), options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'WeirError'
    this.code = options.code
    this.stage = options.stage
    this.retryable = options.retryable ?? false
  }
}

/** Whether a failed call is worth trying again. Unknown errors are not: retrying a bug only hides it. */
export function isRetryable(err: unknown): boolean {
  return err instanceof WeirError && err.retryable
}

/** The message of anything thrown, without its stack. */
export function errorMessage(err: unknown): string {
  // A library's own error may quote what it was given (a URL, a header): scrubbed like ours.
  return scrub(err instanceof Error ? err.message : String(err))
}
