import { describe, expect, it } from 'vitest'
import type { Message } from '../../src/alerts/channels/channel.js'
import { createChannel } from '../../src/alerts/channels/registry.js'
import { WeirError } from '../../src/core/errors.js'

/** An alert channel against a receiver that speaks its service's API. */
export interface ChannelHarness {
  /** A config whose messages reach the receiver. */
  readonly config: Record<string, unknown>
  /** The subjects (or texts) the receiver got, in order. */
  received(): Promise<string[]>
  /** A config whose sends fail (the service refuses or is not there), and the credential it holds; none for a channel that cannot fail. */
  readonly failing?: { readonly config: Record<string, unknown>; readonly secret?: string }
  close(): Promise<void>
}

const message = (subject: string): Message => ({
  channel: 'contract',
  subject,
  text: `${subject}: 31 C in toronto`,
  alerts: [],
  digest: false,
})

/**
 * The alert-channel contract: a message reaches the service; a failed delivery is a retryable
 * `ALERT_DELIVERY` error naming the channel and never a credential; close is safe after sends.
 */
export function channelContract(
  kind: string,
  start: () => Promise<ChannelHarness>,
  parse: (config: unknown) => never,
): void {
  describe(`alert channel contract: ${kind}`, () => {
    it('delivers each message, in order', async () => {
      const h = await start()
      const ch = createChannel('contract', parse(h.config))
      try {
        await ch.send(message('first alert'))
        await ch.send(message('second alert'))
        const got = await h.received()
        expect(got.length).toBeGreaterThanOrEqual(2)
        expect(got.findIndex((s) => s.includes('first alert'))).toBeGreaterThanOrEqual(0)
        expect(got.findIndex((s) => s.includes('first alert'))).toBeLessThan(
          got.findIndex((s) => s.includes('second alert')),
        )
      } finally {
        await ch.close()
        await h.close()
      }
    })

    it('reports a failed delivery as a retryable ALERT_DELIVERY error that names the channel, not a credential', async (ctx) => {
      const h = await start()
      try {
        if (!h.failing) {
          ctx.skip(`${kind} has no service that can refuse a message`)
          return
        }
        const ch = createChannel('contract', parse(h.failing.config))
        const err = await ch.send(message('lost alert')).then(
          () => undefined,
          (e: unknown) => e,
        )
        await ch.close()
        expect(err).toBeInstanceOf(WeirError)
        const e = err as WeirError
        expect(e.code).toBe('ALERT_DELIVERY')
        expect(e.stage).toBe('alerts')
        expect(e.retryable).toBe(true)
        expect(e.message).toMatch(/^alert channel contract: /)
        if (h.failing.secret) expect(e.message).not.toContain(h.failing.secret)
      } finally {
        await h.close()
      }
    })
  })
}
