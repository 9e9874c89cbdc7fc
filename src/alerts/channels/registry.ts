import { z } from 'zod'
import { adapterFor, kindSchemas } from '../../core/adapter.js'
import type { Channel } from './channel.js'
import { consoleChannel } from './console.js'
import { emailChannel } from './email.js'
import { snsChannel } from './sns.js'
import { twilioChannel } from './twilio.js'
import { webhookChannel } from './webhook.js'

/** The built-in alert channels. A new kind adds its definition (beside its adapter) here. */
export const CHANNEL_KINDS = [
  consoleChannel,
  webhookChannel,
  emailChannel,
  twilioChannel,
  snsChannel,
] as const

export const channelSchema = z.discriminatedUnion('kind', kindSchemas(CHANNEL_KINDS))

export type ChannelConfig = z.output<typeof channelSchema>

/**
 * A channel from its config: console, webhook (JSON, HMAC-signed), email (SMTP via nodemailer),
 * Twilio SMS (its REST API) or Amazon SNS (the SDK). Heavy clients load on first use.
 */
export function createChannel(name: string, cfg: ChannelConfig): Channel {
  return adapterFor(CHANNEL_KINDS, cfg.kind, 'alert channel').create(cfg as never, { name })
}
