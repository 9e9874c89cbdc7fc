import { z } from 'zod'
import type { SourceRecord } from '../../core/records.js'
import type { PullContext, SourceBatch, SourceDefinition } from '../source.js'

/** What a code source's `pull` receives: the saved cursor and a signal aborted on shutdown. */
export type CodeSourceContext = PullContext

/** A batch a code source yields; `cursor` is saved once the batch is durable in the stream. */
export interface CodeSourceBatch extends SourceBatch {
  readonly records: readonly SourceRecord[]
}

/** Your own extraction code, in `weir.config.ts`: an async generator of record batches. */
export const codeSourceSchema = z.strictObject({
  kind: z.literal('code').describe('Your own code in weir.config.ts.'),
  pull: z
    .custom<(ctx: CodeSourceContext) => AsyncIterable<CodeSourceBatch>>((v) => typeof v === 'function', {
      message: 'expected a function (ctx) => AsyncIterable<{ records, cursor? }>',
    })
    .describe('An async generator yielding { records: [{ resource, data }], cursor? }.'),
})

export type CodeSourceConfig = z.output<typeof codeSourceSchema>

/**
 * A source written as code in `weir.config.ts`.
 *
 * @example
 * sources: { orders: { kind: 'code', async *pull({ cursor }) { yield { records: [{ resource: 'orders', data: { id: 1 } }], cursor: 1 } } } }
 */
export const codeSource = {
  kind: 'code',
  schema: codeSourceSchema,
  create: (name, config) => ({
    name,
    // The user's code may not look at its signal: a stop still ends the pull after the batch in hand.
    async *pull(ctx) {
      for await (const batch of config.pull(ctx)) {
        yield batch
        if (ctx.signal.aborted) return
      }
    },
  }),
} satisfies SourceDefinition<CodeSourceConfig>
