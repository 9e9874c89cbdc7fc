import { z } from 'zod'
import { defineAdapter } from '../../core/adapter.js'
import { type Channel, type ChannelContext, deliverySettings } from './channel.js'

const schema = z.strictObject({
  kind: z.literal('console').describe('Print to stdout.'),
  ...deliverySettings,
})

/** Prints each message to stdout. */
export const consoleChannel = defineAdapter({
  kind: 'console',
  schema,
  create(_cfg: z.output<typeof schema>, _ctx: ChannelContext): Channel {
    return {
      async send(m) {
        process.stdout.write(`[alert] ${m.subject}\n${m.text}\n`)
      },
      async close() {},
    }
  },
})
