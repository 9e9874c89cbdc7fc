import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FaultProxy {
  readonly url: string
  /** Share of requests (0..1) answered with a 500, a 503, or no answer at all (a timeout). */
  setRate(rate: number): void
  readonly counts: { forwarded: number; failed: number; hung: number }
  close(): Promise<void>
}

/**
 * An HTTP proxy in front of a storage server (s3rver) that fails a share of requests the ways S3
 * does: 500 InternalError, 503 SlowDown, and requests that are never answered. What it forwards
 * reaches the real server untouched.
 */
export async function startFaultProxy(
  target: string,
  seed = 1,
  /** Sees every request first (its headers, e.g. to check a credential was sent). */
  onRequest?: (req: import('node:http').IncomingMessage) => void,
): Promise<FaultProxy> {
  const to = new URL(target)
  let rate = 0
  let rnd = seed
  const random = () => {
    rnd = (rnd * 1_103_515_245 + 12_345) % 2 ** 31
    return rnd / 2 ** 31
  }
  const counts = { forwarded: 0, failed: 0, hung: 0 }
  const hanging = new Set<import('node:http').ServerResponse>()
  const server = createServer((req, res) => {
    onRequest?.(req)
    const r = random()
    if (r < rate) {
      const kind = Math.floor((r / rate) * 3)
      req.resume()
      if (kind === 2) {
        counts.hung++
        hanging.add(res)
        res.on('close', () => hanging.delete(res))
        return
      }
      counts.failed++
      const [status, code] = kind === 0 ? [500, 'InternalError'] : [503, 'SlowDown']
      res.writeHead(status, { 'content-type': 'application/xml' })
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected</Message></Error>`,
      )
      return
    }
    counts.forwarded++
    const up = request(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
      (r2) => {
        res.writeHead(r2.statusCode ?? 502, r2.headers)
        r2.pipe(res)
      },
    )
    up.on('error', () => res.destroy())
    // A client that gave up (its timeout) takes the upstream request down with it. Otherwise s3rver,
    // slow on a loaded machine, could apply that write after a newer one to the same key; S3 orders
    // writes by when it received them, so there the older one loses.
    res.on('close', () => {
      if (!res.writableFinished) up.destroy()
    })
    req.pipe(up)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    setRate: (r) => {
      rate = r
    },
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
