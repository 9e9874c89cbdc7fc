import { z } from 'zod'
import { WeirError } from '../../core/errors.js'
import { durationSchema } from '../../core/units-schema.js'
import type { Notification } from '../engine.js'

/** One message to one channel: a single alert, several at once (grouped), or a digest of held ones. */
export interface Message {
  readonly channel: string
  readonly subject: string
  readonly text: string
  readonly alerts: readonly Notification[]
  readonly digest: boolean
}

/** The alert channel port: deliver a message, or throw a retryable `ALERT_DELIVERY` error. */
export interface Channel {
  send(message: Message): Promise<void>
  close(): Promise<void>
}

/** What a channel is built with besides its config: its name, for messages. */
export interface ChannelContext {
  readonly name: string
}

/** Delivery settings every channel kind has, beside its own. */
export const deliverySettings = {
  retries: z
    .number()
    .int()
    .min(0)
    .default(3)
    .describe('Retries of a failed delivery (backoff doubles from 500 ms).'),
  rateLimit: z
    .strictObject({ count: z.number().int().positive(), per: durationSchema })
    .optional()
    .describe(
      'At most this many messages per period; beyond it messages are recorded as rate-limited, not sent.',
    ),
  dailyCap: z.number().int().positive().optional().describe('At most this many messages a day (UTC).'),
  dryRun: z.boolean().default(false).describe('Record what would be sent, send nothing.'),
}

/** A failed delivery: retryable, since the next attempt may reach the service. */
export function deliveryFailed(name: string, what: string, err: unknown): WeirError {
  return new WeirError(`alert channel ${name}: ${what}: ${(err as Error).message ?? String(err)}`, {
    code: 'ALERT_DELIVERY',
    stage: 'alerts',
    retryable: true,
    cause: err,
  })
}

/** A text message: the subject, then as much of the text as fits one long SMS. */
export function sms(m: Message): string {
  return `${m.subject}\n${m.text}`.slice(0, 1500)
}
