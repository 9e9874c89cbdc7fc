import { createHmac } from 'node:crypto'
import { WeirError } from '../core/errors.js'
import type { ChannelConfig } from './alerts-schema.js'
import type { Notification } from './engine.js'

/** One message to one channel: a single alert, several at once (grouped), or a digest of held ones. */
export interface Message {
  readonly channel: string
  readonly subject: string
  readonly text: string
  readonly alerts: readonly Notification[]
  readonly digest: boolean
}

export interface Channel {
  send(message: Message): Promise<void>
  close(): Promise<void>
}

/**
 * A channel from its config: console, webhook (JSON, HMAC-signed), email (SMTP via nodemailer),
 * Twilio SMS (its REST API) or Amazon SNS (the SDK). Heavy clients load on first use.
 */
export function createChannel(name: string, cfg: ChannelConfig): Channel {
  const failed = (what: string, err: unknown) =>
    new WeirError(`alert channel ${name}: ${what}: ${(err as Error).message ?? String(err)}`, {
      code: 'ALERT_DELIVERY',
      stage: 'alerts',
      retryable: true,
      cause: err,
    })
  switch (cfg.kind) {
    case 'console':
      return {
        async send(m) {
          process.stdout.write(`[alert] ${m.subject}\n${m.text}\n`)
        },
        async close() {},
      }
    case 'webhook':
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
            throw failed(`POST ${new URL(cfg.url).host}`, err)
          }
          if (!res.ok) throw failed(`POST ${new URL(cfg.url).host}`, new Error(`HTTP ${res.status}`))
        },
        async close() {},
      }
    case 'email': {
      let transport: Promise<import('nodemailer').Transporter> | undefined
      const get = () => {
        transport ??= import('nodemailer').then((nm) =>
          nm.createTransport({
            host: cfg.host,
            port: cfg.port,
            secure: cfg.secure,
            ...(cfg.user ? { auth: { user: cfg.user, pass: cfg.pass ?? '' } } : {}),
          }),
        )
        return transport
      }
      return {
        async send(m) {
          try {
            await (await get()).sendMail({ from: cfg.from, to: cfg.to, subject: m.subject, text: m.text })
          } catch (err) {
            throw failed(`SMTP ${cfg.host}:${cfg.port}`, err)
          }
        },
        async close() {
          if (transport) (await transport).close()
        },
      }
    }
    case 'twilio':
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
              throw failed('Twilio', err)
            }
            if (!res.ok)
              throw failed('Twilio', new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`))
          }
        },
        async close() {},
      }
    case 'sns': {
      let client:
        | Promise<{ c: import('@aws-sdk/client-sns').SNSClient; sdk: typeof import('@aws-sdk/client-sns') }>
        | undefined
      const get = () => {
        client ??= import('@aws-sdk/client-sns').then((sdk) => {
          const endpoint = cfg.endpoint ?? process.env.AWS_ENDPOINT_URL_SNS ?? process.env.AWS_ENDPOINT_URL
          return {
            sdk,
            c: new sdk.SNSClient({
              region: cfg.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
              ...(endpoint ? { endpoint } : {}),
            }),
          }
        })
        return client
      }
      return {
        async send(m) {
          const { c, sdk } = await get()
          try {
            await c.send(
              new sdk.PublishCommand({
                ...(cfg.topicArn
                  ? { TopicArn: cfg.topicArn, Subject: m.subject.slice(0, 100) }
                  : { PhoneNumber: cfg.phoneNumber }),
                Message: cfg.topicArn ? m.text : sms(m),
              }),
            )
          } catch (err) {
            throw failed('SNS Publish', err)
          }
        },
        async close() {
          if (client) (await client).c.destroy()
        },
      }
    }
  }
}

/** A text message: the subject, then as much of the text as fits one long SMS. */
function sms(m: Message): string {
  return `${m.subject}\n${m.text}`.slice(0, 1500)
}
