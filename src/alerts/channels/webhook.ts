import { createHmac } from 'node:crypto'
import { z } from 'zod'
import { defineAdapter } from '../../core/adapter.js'
import { type Channel, type ChannelContext, deliveryFailed, deliverySettings } from './channel.js'

const schema = z.strictObject({
  kind: z.literal('webhook').describe('POST the alerts as JSON.'),
  url: z.string().url().describe('Where to POST.'),
  secret: z
    .string()
    .optional()
    .describe('HMAC-SHA256 key: the body is signed in the X-Weir-Signature header (sha256=<hex>).'),
  headers: z.record(z.string(), z.string()).default({}).describe('Extra headers.'),
  ...deliverySettings,
})

/** POSTs the alerts as JSON, HMAC-signed when a secret is set. */
export const webhookChannel = defineAdapter({
  kind: 'webhook',
  schema,
  create(cfg: z.output<typeof schema>, ctx: ChannelContext): Channel {
    return {
      async send(m) {
        const body = JSON.stringify({
          subject: m.subject,
          text: m.text,
          digest: m.digest,
          alerts: m.alerts,
        })
        const headers: Record<string, string> = { 'content-type': 'application/json', ...cfg.headers }
        if (cfg.secret)
          headers['x-weir-signature'] =
            `sha256=${createHmac('sha256', cfg.secret).update(body).digest('hex')}`
        let res: Response
        try {
          res = await fetch(cfg.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) })
        } catch (err) {
          throw deliveryFailed(ctx.name, `POST ${new URL(cfg.url).host}`, err)
        }
        if (!res.ok)
          throw deliveryFailed(ctx.name, `POST ${new URL(cfg.url).host}`, new Error(`HTTP ${res.status}`))
      },
      async close() {},
    }
  },
})
