import { getEventListeners } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { createHttp } from '../../src/sources/rest/http.js'

describe('the REST client', () => {
  it('backs off between attempts without leaving a listener on the run signal (none per retry)', async () => {
    let calls = 0
    const server = createServer((_req, res) => {
      calls++
      res.writeHead(503).end('{}')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`)
    const run = new AbortController()
    const http = createHttp({
      source: 's',
      timeoutMs: 2000,
      attempts: 12,
      baseDelayMs: 1,
      maxDelayMs: 2,
      maxWaitMs: 1000,
      auth: { apply: async () => undefined, invalidate: () => undefined },
      budget: { take: async () => undefined } as never,
      signal: run.signal,
      headers: {},
    })
    try {
      await expect(http.get('GET /x', url)).rejects.toThrow(/failed after 12 attempts: HTTP 503/)
      expect(calls).toBe(12)
      // Twelve attempts and eleven backoffs: a listener left by each would pass Node's limit of 10.
      expect(getEventListeners(run.signal, 'abort')).toHaveLength(0)
    } finally {
      await new Promise<void>((r) => server.close(() => r()))
    }
  })
})
