import { z } from 'zod'
import { defineAdapter } from '../../core/adapter.js'
import { type Channel, type ChannelContext, deliveryFailed, deliverySettings } from './channel.js'

const schema = z.strictObject({
  kind: z.literal('email').describe('Email over SMTP (nodemailer).'),
  host: z.string().describe('SMTP server.'),
  port: z.coerce
    .number()
    .int()
    .positive()
    .default(587)
    .describe('SMTP port: a number, or "${SMTP_PORT:-587}" from the environment.'),
  secure: z
    .boolean()
    .default(false)
    .describe('TLS from the start (port 465); otherwise STARTTLS when offered.'),
  user: z.string().optional().describe('SMTP user, e.g. "${SMTP_USER}".'),
  pass: z.string().optional().describe('SMTP password, e.g. "${SMTP_PASS}".'),
  from: z.string().describe('Sender address.'),
  to: z.array(z.string()).min(1).describe('Recipients.'),
  ...deliverySettings,
})

/** Email over SMTP; nodemailer loads on first use. */
export const emailChannel = defineAdapter({
  kind: 'email',
  schema,
  create(cfg: z.output<typeof schema>, ctx: ChannelContext): Channel {
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
          throw deliveryFailed(ctx.name, `SMTP ${cfg.host}:${cfg.port}`, err)
        }
      },
      async close() {
        if (transport) (await transport).close()
      },
    }
  },
})
