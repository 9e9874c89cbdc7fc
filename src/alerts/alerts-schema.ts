import { z } from 'zod'
import { compileExpr, ExprError } from '../core/expr.js'
import { isTimeZone } from '../core/time.js'
import { durationSchema } from '../core/units-schema.js'

const duration = durationSchema
const hhmm = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day as HH:MM, e.g. "22:00"')
  .describe("A time of day, HH:MM, in the window's time zone.")

const windowSchema = z
  .strictObject({
    timeZone: z
      .string()
      .refine(isTimeZone, { message: 'an IANA time zone such as "America/Toronto"' })
      .optional()
      .describe("The window's time zone (default: alerts.timeZone)."),
    quiet: z
      .strictObject({ from: hhmm, to: hhmm })
      .optional()
      .describe(
        'Hold notifications between these times (e.g. 22:00 to 07:00); one digest is sent when it ends.',
      ),
    active: z
      .strictObject({
        from: hhmm,
        to: hhmm,
        days: z
          .array(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']))
          .optional()
          .describe('Days the window is open (default: every day).'),
      })
      .optional()
      .describe('Send only between these times (and days); what comes outside is held for a digest.'),
  })
  .describe('When notifications may go out.')

const retry = {
  retries: z
    .number()
    .int()
    .min(0)
    .default(3)
    .describe('Retries of a failed delivery (backoff doubles from 500 ms).'),
  rateLimit: z
    .strictObject({ count: z.number().int().positive(), per: duration })
    .optional()
    .describe(
      'At most this many messages per period; beyond it messages are recorded as rate-limited, not sent.',
    ),
  dailyCap: z.number().int().positive().optional().describe('At most this many messages a day (UTC).'),
  dryRun: z.boolean().default(false).describe('Record what would be sent, send nothing.'),
}

export const channelSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('console').describe('Print to stdout.'), ...retry }),
  z.strictObject({
    kind: z.literal('webhook').describe('POST the alerts as JSON.'),
    url: z.string().url().describe('Where to POST.'),
    secret: z
      .string()
      .optional()
      .describe('HMAC-SHA256 key: the body is signed in the X-Weir-Signature header (sha256=<hex>).'),
    headers: z.record(z.string(), z.string()).default({}).describe('Extra headers.'),
    ...retry,
  }),
  z.strictObject({
    kind: z.literal('email').describe('Email over SMTP (nodemailer).'),
    host: z.string().describe('SMTP server.'),
    port: z.number().int().positive().default(587).describe('SMTP port.'),
    secure: z
      .boolean()
      .default(false)
      .describe('TLS from the start (port 465); otherwise STARTTLS when offered.'),
    user: z.string().optional().describe('SMTP user, e.g. "${SMTP_USER}".'),
    pass: z.string().optional().describe('SMTP password, e.g. "${SMTP_PASS}".'),
    from: z.string().describe('Sender address.'),
    to: z.array(z.string()).min(1).describe('Recipients.'),
    ...retry,
  }),
  z.strictObject({
    kind: z.literal('twilio').describe("SMS through Twilio's REST API."),
    accountSid: z.string().describe('Account SID, e.g. "${TWILIO_ACCOUNT_SID}".'),
    authToken: z.string().describe('Auth token, e.g. "${TWILIO_AUTH_TOKEN}".'),
    from: z.string().describe('Sending number (E.164).'),
    to: z.array(z.string()).min(1).describe('Recipient numbers (E.164).'),
    baseUrl: z
      .string()
      .default('https://api.twilio.com')
      .describe("Twilio's API (tests point it at a local server)."),
    ...retry,
  }),
  z.strictObject({
    kind: z.literal('sns').describe('Amazon SNS: publish to a topic or to a phone number (SMS).'),
    topicArn: z.string().optional().describe('Topic to publish to.'),
    phoneNumber: z.string().optional().describe('Or a phone number (E.164) to text.'),
    region: z.string().optional().describe('AWS region (default: AWS_REGION).'),
    endpoint: z
      .string()
      .optional()
      .describe('SNS endpoint (default: AWS_ENDPOINT_URL_SNS, AWS_ENDPOINT_URL, or AWS).'),
    ...retry,
  }),
])

const expression = z.string().superRefine((src, ctx) => {
  try {
    compileExpr(src)
  } catch (err) {
    if (!(err instanceof ExprError)) throw err
    ctx.addIssue({ code: 'custom', message: `invalid expression "${src}": ${err.message}` })
  }
})

export const ruleSchema = z
  .strictObject({
    source: z.string().describe('The source whose records the rule watches (a stream topic).'),
    resource: z.string().optional().describe("Only this resource's records (default: all of the source's)."),
    when: expression
      .optional()
      .describe('The condition, e.g. "data.values.temperature > 30 and location.name in [\'toronto\']".'),
    noData: duration
      .optional()
      .describe('Instead of a condition: fire when the source produced nothing for this long (stale data).'),
    for: z
      .union([duration, z.strictObject({ records: z.number().int().positive() })])
      .optional()
      .describe(
        'The condition must hold this long (a duration) or for this many consecutive records before firing.',
      ),
    key: z.string().optional().describe('Field whose value keeps a state per entity (e.g. "location.name").'),
    labels: z
      .record(z.string(), z.string().describe('A label value, e.g. severity: warning.'))
      .default({})
      .describe('Labels copied into every notification.'),
    keepFiringFor: duration.optional().describe('Keep firing this long after the condition stops holding.'),
    repeatInterval: duration.optional().describe('While firing, remind this often (default: never).'),
    notifyResolved: z.boolean().default(true).describe('Send a resolved notice when it stops firing.'),
    channels: z.array(z.string()).min(1).describe('Channels to notify.'),
    subject: z
      .string()
      .optional()
      .describe('Subject template; {{ field.path }}, {{ rule }}, {{ key }} and {{ state }} are filled in.'),
    body: z.string().optional().describe('Body template, with the same fields.'),
    window: windowSchema.optional(),
  })
  .refine((r) => Boolean(r.when) !== Boolean(r.noData), 'set exactly one of when or noData')

export const alertsSchema = z
  .strictObject({
    timeZone: z
      .string()
      .default('UTC')
      .refine(isTimeZone, { message: 'an IANA time zone such as "America/Toronto"' })
      .describe('Time zone of delivery windows.'),
    channels: z.record(z.string(), channelSchema).default({}).describe('Where notifications go, by name.'),
    rules: z.record(z.string(), ruleSchema).default({}).describe('Alert rules, by name.'),
    window: windowSchema.optional().describe('Default delivery window of every rule.'),
  })
  .prefault({})
  .superRefine((a, ctx) => {
    for (const [name, r] of Object.entries(a.rules)) {
      for (const c of r.channels) {
        if (!a.channels[c]) {
          ctx.addIssue({
            code: 'custom',
            path: ['rules', name, 'channels'],
            message: `no channel "${c}" (channels: ${Object.keys(a.channels).join(', ') || 'none'})`,
          })
        }
      }
    }
  })
  .describe('Alert rules on live records, and the channels they notify.')

export type AlertsConfig = z.output<typeof alertsSchema>
export type RuleConfig = z.output<typeof ruleSchema>
export type ChannelConfig = z.output<typeof channelSchema>
