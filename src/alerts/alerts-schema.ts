import { z } from 'zod'
import { compileExpr, ExprError } from '../core/expr.js'
import { isTimeZone } from '../core/time.js'
import { durationSchema } from '../core/units-schema.js'
import { channelSchema } from './channels/registry.js'

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
