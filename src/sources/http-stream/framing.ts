import { createParser, type EventSourceMessage } from 'eventsource-parser'
import { whenAborted } from '../../core/time.js'

/** One message of a stream: a parsed document, input that could not be read, or an SSE retry hint. */
export type Message =
  | {
      readonly kind: 'data'
      readonly data: unknown
      readonly id?: string
      readonly event?: string
      readonly at: number
    }
  | { readonly kind: 'bad'; readonly raw: string; readonly reason: string }
  | { readonly kind: 'retry'; readonly ms: number }

/** The connection went quiet or broke: reconnect (not a failure of the run by itself). */
export class StreamDrop extends Error {
  override readonly name = 'StreamDrop'
}

/**
 * The response body as text, chunk by chunk. Nothing at all (not even a keep-alive) for `stallMs`
 * means a dead connection that TCP has not noticed: it is cancelled and reported as a drop.
 */
export async function* textChunks(body: ReadableStream<Uint8Array>, stallMs: number): AsyncGenerator<string> {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined
      const stalled = new Promise<'stall'>((r) => {
        timer = setTimeout(() => r('stall'), stallMs)
      })
      const r = await Promise.race([reader.read(), stalled]).finally(() => clearTimeout(timer))
      if (r === 'stall') throw new StreamDrop(`nothing, not even a keep-alive, for ${stallMs / 1000} s`)
      if (r.done) return
      yield decoder.decode(r.value, { stream: true })
    }
  } finally {
    reader.cancel().catch(() => {})
  }
}

/** Newline-delimited JSON; blank lines (X's `\r\n` keep-alives) are skipped. */
export async function* ndjsonMessages(chunks: AsyncIterable<string>): AsyncGenerator<Message> {
  let rest = ''
  for await (const chunk of chunks) {
    const lines = (rest + chunk).split('\n')
    rest = lines.pop() ?? ''
    const at = Date.now()
    for (const raw of lines) {
      const line = raw.trim()
      if (!line) continue
      try {
        yield { kind: 'data', data: JSON.parse(line), at }
      } catch (err) {
        yield { kind: 'bad', raw: line, reason: `not JSON: ${(err as Error).message}` }
      }
    }
  }
  // A line cut off by the end of the response is incomplete: it was never a message.
}

/** Server-Sent Events (`text/event-stream`), parsed by eventsource-parser; each event's data is JSON. */
export async function* sseMessages(chunks: AsyncIterable<string>): AsyncGenerator<Message> {
  const queue: Message[] = []
  const parser = createParser({
    onEvent: (e: EventSourceMessage) => {
      try {
        queue.push({
          kind: 'data',
          data: JSON.parse(e.data),
          at: Date.now(),
          ...(e.id !== undefined ? { id: e.id } : {}),
          ...(e.event ? { event: e.event } : {}),
        })
      } catch (err) {
        queue.push({ kind: 'bad', raw: e.data, reason: `event data is not JSON: ${(err as Error).message}` })
      }
    },
    onRetry: (ms) => queue.push({ kind: 'retry', ms }),
  })
  for await (const chunk of chunks) {
    parser.feed(chunk)
    yield* queue.splice(0)
  }
}

/**
 * Messages in batches: one is handed on when it holds `max` messages or its first message is
 * `maxAgeMs` old, whichever comes first, so records flow within seconds on a slow stream and in
 * large batches on a fast one. When `stop` aborts, the batch in hand is handed on and the batching
 * ends (a connection cut by the stop is not an error).
 */
export async function* batched(
  messages: AsyncIterator<Message>,
  max: number,
  maxAgeMs: number,
  stop: AbortSignal,
): AsyncGenerator<Message[]> {
  let buf: Message[] = []
  let first = 0
  let pending: Promise<IteratorResult<Message>> | undefined
  const stopped = whenAborted(stop).then(() => 'stop' as const)
  try {
    for (;;) {
      pending ??= messages.next()
      let timer: NodeJS.Timeout | undefined
      const aged = buf.length
        ? new Promise<'age'>((r) => {
            timer = setTimeout(() => r('age'), Math.max(0, first + maxAgeMs - Date.now()))
          })
        : undefined
      let r: IteratorResult<Message> | 'age' | 'stop'
      try {
        r = await Promise.race([pending, stopped, ...(aged ? [aged] : [])])
      } catch (err) {
        if (!stop.aborted) {
          // What arrived before the connection broke is handed on before the break is.
          pending = undefined
          if (buf.length) yield buf
          throw err
        }
        r = 'stop'
      } finally {
        clearTimeout(timer)
      }
      if (r === 'stop') {
        pending.catch(() => {})
        if (buf.length) yield buf
        return
      }
      if (r === 'age') {
        yield buf
        buf = []
        continue
      }
      pending = undefined
      if (r.done) {
        if (buf.length) yield buf
        return
      }
      if (!buf.length) first = Date.now()
      buf.push(r.value)
      if (buf.length >= max) {
        yield buf
        buf = []
      }
    }
  } finally {
    pending?.catch(() => {})
  }
}
