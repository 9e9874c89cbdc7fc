import type { Context } from 'hono'
import { httpStatus } from '../../core/error-codes.js'
import { WeirError } from '../../core/errors.js'
import { ApiError } from './api-error.js'

/**
 * The API's one error mapping: a client's error is its status and code; a Weir error the client
 * caused (a name the lake does not have) is the status of its code; anything else is the server's
 * failure, reported with its cause and not shown.
 */
export function apiErrorHandler(onServerError?: (method: string, path: string, err: unknown) => void) {
  return (err: Error, c: Context) => {
    if (err instanceof ApiError) {
      if (err.retryAfter !== undefined) c.header('retry-after', String(err.retryAfter))
      return c.json({ error: { code: err.code, message: err.message } }, err.status)
    }
    // A Weir error the client caused (a name the lake does not have, a bad request) is its status;
    // anything else is the server's failure: logged with its cause, and not shown.
    const code = (err as { code?: unknown }).code
    const status = err instanceof WeirError ? httpStatus(code) : 500
    if (status < 500)
      return c.json(
        { error: { code: String(code).toLowerCase(), message: err.message.split('\n')[0] } },
        status,
      )
    const report =
      onServerError ??
      ((method: string, path: string, e: unknown) =>
        process.stderr.write(
          `weir serve: ${method} ${path} failed: ${(e as Error)?.message?.split('\n')[0] ?? String(e)}\n`,
        ))
    report(c.req.method, c.req.path, err)
    return c.json(
      { error: { code: 'internal', message: 'the request failed; see the server log' } },
      status as 500 | 502 | 503,
    )
  }
}
