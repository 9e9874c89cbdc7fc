import type { WeirError } from '../../core/errors.js'
import { getPath, type SourceRecord } from '../../core/records.js'
import { onAbort, sleep } from '../../core/time.js'
import { parseDuration } from '../../core/units.js'
import { retryAfter } from '../rest/http.js'
import { selectRecords } from '../rest/select.js'
import type { PullContext, Source, SourceBatch, SourceDefinition } from '../source.js'
import { connect } from './connect.js'
import { batched, type Message, ndjsonMessages, StreamDrop, sseMessages, textChunks } from './framing.js'
import { type HttpStreamSourceConfig, httpStreamSourceSchema } from './http-stream-schema.js'
import { reconnectPolicy } from './reconnect.js'
import { type ResolvedStream, resolveStream } from './stream-presets.js'
import { syncRules } from './x-rules.js'

/** Where a stream was left: the last SSE event id, when the last message came, and the ids of the last minutes. */
export interface StreamCursor {
  readonly lastEventId?: string
  readonly at?: number
  /** [id, arrival ms] of the messages within the backfill window, so a backfill after a restart doubles nothing. */
  readonly seen?: readonly (readonly [string, number])[]
}

/** The most ids the cursor keeps for dedupe after a restart. */
const SEEN_CAP = 20_000

/**
 * A long-lived HTTP response read as it arrives (X's filtered stream, an SSE feed): messages are
 * handed on in small batches (maxRecords or maxAge), each with the cursor that resumes after it.
 * Drops are expected: the source reconnects with X's backoff, sends `Last-Event-ID` (SSE) or
 * `backfill_minutes` (X) to get back what passed meanwhile, and drops what it had already (dedupeBy).
 * Under `weir run` it reads until stopped; one-shot commands read for `runFor`.
 */
export function createHttpStreamSource(name: string, cfg: HttpStreamSourceConfig): Source {
  const r = resolveStream(name, cfg)
  const windowMs = cfg.backfillMinutes * 60_000 + 60_000
  return {
    name,
    identity: (resource) => (r.identity[resource] ? [r.identity[resource]] : undefined),
    async *pull(ctx: PullContext): AsyncGenerator<SourceBatch> {
      const saved = (ctx.cursor ?? {}) as StreamCursor
      let lastEventId = saved.lastEventId
      let lastAt = saved.at
      const seen = new Map<string, number>(r.dedupeBy ? (saved.seen ?? []) : [])
      const stop = stopper(ctx, parseDuration(cfg.runFor))
      const policy = reconnectPolicy(cfg.reconnect)
      const rc = cfg.reconnect
      const conn = connect(name, cfg, r)
      let connected = false
      let failing: { since: number; error: WeirError } | undefined
      try {
        if (cfg.rules)
          await syncRules(name, r.rulesUrl!, cfg.rules, () => conn.headers(stop.signal), stop.signal)
        while (!stop.signal.aborted) {
          const gapMinutes = lastAt === undefined ? 0 : Math.ceil((Date.now() - lastAt) / 60_000)
          const opened = await conn.open({
            signal: stop.signal,
            ...(lastEventId !== undefined && r.format === 'sse' ? { lastEventId } : {}),
            backfillMinutes: Math.min(cfg.backfillMinutes, gapMinutes),
          })
          if (stop.signal.aborted) break
          if ('error' in opened) {
            if (!opened.error.retryable) throw opened.error
            failing ??= { since: Date.now(), error: opened.error }
            failing.error = opened.error
            if (ctx.follow && Date.now() - failing.since > parseDuration(rc.giveUpAfter)) throw opened.error
            await sleep(
              policy.next(opened.kind, opened.headers ? retryAfter(opened.headers) : 0),
              stop.signal,
            )
            continue
          }
          connected = true
          failing = undefined
          const messages = messagesOf(opened.body, r.format, parseDuration(cfg.stallTimeout))
          try {
            for await (const batch of batched(
              messages,
              cfg.batch.maxRecords,
              parseDuration(cfg.batch.maxAge),
              stop.signal,
            )) {
              const out = toBatch(name, r, batch, seen, (m) => {
                if (m.kind === 'retry') policy.retry(m.ms)
              })
              if (out.records.length) policy.reset()
              lastEventId = out.lastEventId ?? lastEventId
              lastAt = out.at ?? lastAt
              prune(seen, windowMs)
              if (out.records.length || out.errors.length)
                yield {
                  records: out.records,
                  ...(out.errors.length ? { errors: out.errors } : {}),
                  cursor: cursorOf(lastEventId, lastAt, seen),
                }
              if (out.drop) throw new StreamDrop(out.drop)
            }
          } catch (err) {
            if (!(err instanceof StreamDrop) && !isNetwork(err)) throw err
          } finally {
            opened.close()
            await messages.return?.(undefined).catch(() => {})
          }
          if (!stop.signal.aborted) await sleep(policy.next('network'), stop.signal)
        }
        // A one-shot read that never got a connection did not read the stream: say so.
        if (!connected && failing) throw failing.error
      } finally {
        stop.dispose()
      }
    },
  }
}

export const httpStreamSource = {
  kind: 'http-stream',
  schema: httpStreamSourceSchema,
  continuous: true,
  create: (name, config) => createHttpStreamSource(name, config),
} satisfies SourceDefinition<HttpStreamSourceConfig>

/**
 * What ends a read: the process stopping (`ctx.signal`) or, for a one-shot read, the end of its
 * window. Its `signal` is the one the read watches.
 */
function stopper(ctx: PullContext, runForMs: number) {
  const stop = new AbortController()
  const onStop = () => stop.abort()
  const unlisten = onAbort(ctx.signal, onStop)
  const timer = ctx.follow ? undefined : setTimeout(onStop, runForMs)
  return {
    signal: stop.signal,
    dispose() {
      clearTimeout(timer)
      unlisten()
    },
  }
}

function messagesOf(body: ReadableStream<Uint8Array>, format: 'ndjson' | 'sse', stallMs: number) {
  const chunks = textChunks(body, stallMs)
  return (format === 'sse' ? sseMessages(chunks) : ndjsonMessages(chunks))[Symbol.asyncIterator]()
}

/** A batch of messages as records of their resources; a message seen before is left out. */
function toBatch(
  name: string,
  r: ResolvedStream,
  batch: readonly Message[],
  seen: Map<string, number>,
  other: (m: Message) => void,
) {
  const records: SourceRecord[] = []
  const errors: { reason: string; raw: string; resource: string }[] = []
  const first = Object.keys(r.select)[0]!
  const attached = Object.entries(r.attach)
  let lastEventId: string | undefined
  let at: number | undefined
  let drop: string | undefined
  for (const m of batch) {
    if (m.kind === 'bad') {
      errors.push({ reason: m.reason, raw: m.raw, resource: first })
      continue
    }
    if (m.kind !== 'data') {
      other(m)
      continue
    }
    if (m.id !== undefined) lastEventId = m.id
    at = m.at
    const key = r.dedupeBy ? getPath(m.data, r.dedupeBy) : undefined
    if (key !== undefined && key !== null) {
      if (seen.has(String(key))) continue
      seen.set(String(key), m.at)
    }
    let n = 0
    // The message's fields added to the first resource's records, read once per message.
    const extra = attached.length
      ? Object.fromEntries(attached.map(([f, p]) => [f, getPath(m.data, p)]))
      : undefined
    for (const [resource, path] of Object.entries(r.select)) {
      for (const data of selectRecords(m.data, path)) {
        records.push({
          resource,
          data:
            extra && resource === first && data && typeof data === 'object' ? { ...data, ...extra } : data,
        })
        n++
      }
    }
    if (!n && r.dropWhen && getPath(m.data, r.dropWhen) !== undefined)
      drop = `source ${name}: the server ended the stream: ${JSON.stringify(getPath(m.data, r.dropWhen)).slice(0, 200)}`
  }
  return { records, errors, lastEventId, at, drop }
}

function prune(seen: Map<string, number>, windowMs: number) {
  const oldest = Date.now() - windowMs
  for (const [id, at] of seen) {
    if (at >= oldest && seen.size <= SEEN_CAP) break
    seen.delete(id)
  }
}

function cursorOf(
  lastEventId: string | undefined,
  at: number | undefined,
  seen: Map<string, number>,
): StreamCursor {
  return {
    ...(lastEventId !== undefined ? { lastEventId } : {}),
    ...(at !== undefined ? { at } : {}),
    ...(seen.size ? { seen: [...seen] } : {}),
  }
}

/** A body that broke mid-read (reset, cut): a drop to reconnect after, not a failure. */
function isNetwork(err: unknown): boolean {
  const e = err as { name?: string; cause?: { code?: string } }
  return e?.name === 'TypeError' || e?.name === 'AbortError' || Boolean(e?.cause?.code)
}
