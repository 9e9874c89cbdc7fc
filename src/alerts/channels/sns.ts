import { z } from 'zod'
import { defineAdapter } from '../../core/adapter.js'
import { type Channel, type ChannelContext, deliveryFailed, deliverySettings, sms } from './channel.js'

const schema = z.strictObject({
  kind: z.literal('sns').describe('Amazon SNS: publish to a topic or to a phone number (SMS).'),
  topicArn: z.string().optional().describe('Topic to publish to.'),
  phoneNumber: z.string().optional().describe('Or a phone number (E.164) to text.'),
  region: z.string().optional().describe('AWS region (default: AWS_REGION).'),
  endpoint: z
    .string()
    .optional()
    .describe('SNS endpoint (default: AWS_ENDPOINT_URL_SNS, AWS_ENDPOINT_URL, or AWS).'),
  ...deliverySettings,
})

/** Amazon SNS, a topic or a phone number; the SDK loads on first use. */
export const snsChannel = defineAdapter({
  kind: 'sns',
  schema,
  create(cfg: z.output<typeof schema>, ctx: ChannelContext): Channel {
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
          throw deliveryFailed(ctx.name, 'SNS Publish', err)
        }
      },
      async close() {
        if (client) (await client).c.destroy()
      },
    }
  },
})
