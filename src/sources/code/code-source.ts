import type { CodeSourceBatch, CodeSourceContext } from '../../config/schema.js'
import type { Source } from '../source.js'

/**
 * A source written as code in `weir.config.ts`: an async generator of `{ records, cursor? }`.
 *
 * @example
 * sources: { orders: { kind: 'code', async *pull({ cursor }) { yield { records: [{ resource: 'orders', data: { id: 1 } }], cursor: 1 } } } }
 */
export function createCodeSource(
  name: string,
  pull: (ctx: CodeSourceContext) => AsyncIterable<CodeSourceBatch>,
): Source {
  return { name, pull: (ctx) => pull(ctx) }
}
