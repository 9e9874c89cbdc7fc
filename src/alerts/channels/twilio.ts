import { z } from 'zod'
import { defineAdapter } from '../../core/adapter.js'
import { type Channel, type ChannelContext, deliveryFailed, deliverySettings, sms } from './channel.js'

const schema = z.strictObject({
  kind: z.literal('twilio').describe("SMS through Twilio's REST API."),
  accountSid: z.string().describe('Account SID, e.g. "${TWILIO_ACCOUNT_SID}".'),
  authToken: z.string().describe('Auth token, e.g. "${TWILIO_AUTH_TOKEN}".'),
  from: z.string().describe('Sending number (E.164).'),
  to: z.array(z.string()).min(1).describe('Recipient numbers (E.164).'),
  baseUrl: z
    .string()
    .default('https://api.twilio.com')
    .describe("Twilio's API (tests point it at a local server)."),
  ...deliverySettings,
})

/** SMS through Twilio's REST API. */
export const twilioChannel = defineAdapter({
  kind: 'twilio',
  schema,
  create(cfg: z.output<typeof schema>, ctx: ChannelContext): Channel {
    return {
      async send(m) {
        const url = `${cfg.baseUrl.replace(/\/$/, '')}/2010-04-01/Accounts/${encodeURIComponent(cfg.accountSid)}/Messages.json`
        const auth = `Basic ${Buffer.from(`${cfg.accountSid}:${cfg.authToken}`).toString('base64')}`
        for (const to of cfg.to) {
          const body = new URLSearchParams({ To: to, From: cfg.from, Body: sms(m) })
          let res: Response
          try {
            res = await fetch(url, {
              method: 'POST',
              headers: { authorization: auth },
              body,
              signal: AbortSignal.timeout(10_000),
            })
          } catch (err) {
            throw deliveryFailed(ctx.name, 'Twilio', err)
          }
          if (!res.ok)
            throw deliveryFailed(
              ctx.name,
              'Twilio',
              new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`),
            )
        }
      },
      async close() {},
    }
  },
})
