import { mkdir, open, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { WeirError } from '../../core/errors.js'
import type { Consumer, ConsumerOptions, Delivery, GroupStatus, StartAt, Stream } from '../stream.js'
import { encode } from './frame.js'
import { TopicLog, type TopicLogOptions } from './topic-log.js'

export interface EmbeddedStreamOptions {
  /** Bytes per segment file before a new one starts (default 128 MB). */
  readonly segmentBytes?: number
  readonly retention?: TopicLogOptions['retention']
  /** Bytes a topic accepts ahead of its writes before publishers wait (default 64 MB). */
  readonly maxQueuedBytes?: number
}

/**
 * The default stream: per topic, a folder of append-only, checksummed segment files in a local
 * directory, fsynced before `publish` resolves (group commit), with committed offsets per consumer
 * group stored beside them. After `kill -9` it reopens, cuts a torn tail and loses no acknowledged record.
 *
 * @example const stream = await createEmbeddedStream('./lake/_stream')
 */
export async function createEmbeddedStream(
  dir: string,
  options: EmbeddedStreamOptions = {},
): Promise<Stream> {
  await mkdir(dir, { recursive: true })
  const segmentBytes = options.segmentBytes ?? 128 * 1024 * 1024
  if (segmentBytes > 2 ** 31) {
    throw new WeirError(`stream ${dir}: segmentBytes ${segmentBytes} is over the 2 GiB a segment may hold`, {
      code: 'STREAM_CONFIG',
      stage: 'config',
    })
  }
  const logOptions: TopicLogOptions = {
    segmentBytes,
    ...(options.retention ? { retention: options.retention } : {}),
    ...(options.maxQueuedBytes ? { maxQueuedBytes: options.maxQueuedBytes } : {}),
  }
  const logs = new Map<string, Promise<TopicLog>>()
  const topic = (name: string) => {
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('_')) {
      throw new WeirError(`stream topic "${name}": use letters, digits, _ . - (not starting with _)`, {
        code: 'STREAM_TOPIC',
        stage: 'stream',
      })
    }
    let t = logs.get(name)
    if (!t) {
      t = TopicLog.open(join(dir, name), logOptions)
      logs.set(name, t)
    }
    return t
  }
  const readGroup = async (group: string): Promise<Record<string, number>> =>
    JSON.parse(await readFile(join(dir, '_groups', `${group}.json`), 'utf8').catch(() => '{}'))

  return {
    async publish(name, records) {
      const t = await topic(name)
      const { buf, sizes, lastTs } = encode(records, Date.now())
      return t.append(buf, sizes, lastTs)
    },

    async consumer(group, names, options: ConsumerOptions = {}) {
      const groupFile = join(dir, '_groups', `${group}.json`)
      const committed = await readGroup(group)
      const position: Record<string, number> = {}
      for (const n of names)
        position[n] = committed[n] ?? (await startOffset(await topic(n), n, options.start))
      return {
        async poll({ maxRecords }) {
          const out: Delivery[] = []
          for (const n of names) {
            const t = await topic(n)
            // Records before the topic's start were removed by retention: carry on from what is kept.
            let from = Math.max(position[n]!, t.start)
            while (out.length < maxRecords && from < t.end) {
              const got = await t.read(n, from, Math.min(t.end, from + maxRecords - out.length))
              if (got.length === 0) break
              out.push(...got)
              from += got.length
            }
            position[n] = from
          }
          return out
        },
        async commit(next) {
          Object.assign(committed, next)
          await mkdir(join(dir, '_groups'), { recursive: true })
          const tmp = `${groupFile}.tmp`
          await writeFile(tmp, JSON.stringify(committed))
          const fh = await open(tmp, 'r+')
          await fh.sync()
          await fh.close()
          await rename(tmp, groupFile)
        },
        position: () => ({ ...position }),
        async lag() {
          const out: Record<string, number> = {}
          for (const n of names) {
            const t = await topic(n)
            out[n] = t.end - Math.max(committed[n] ?? t.start, t.start)
          }
          return out
        },
        async close() {},
      } satisfies Consumer
    },

    async groups() {
      const files = await readdir(join(dir, '_groups')).catch(() => [] as string[])
      const out: GroupStatus[] = []
      for (const f of files.filter((x) => x.endsWith('.json')).sort()) {
        const group = f.slice(0, -5)
        for (const [name, next] of Object.entries(await readGroup(group))) {
          const t = await topic(name)
          out.push({ topic: name, group, committed: next, end: t.end, lag: t.end - Math.max(next, t.start) })
        }
      }
      return out
    },

    async topics() {
      const entries = await readdir(dir, { withFileTypes: true })
      return entries.filter((e) => !e.name.startsWith('_') && e.isDirectory()).map((e) => e.name)
    },

    async close() {
      for (const t of logs.values()) await (await t).close()
      logs.clear()
    },
  }
}

/** Where a group without a commit starts. */
async function startOffset(t: TopicLog, name: string, start: StartAt = 'earliest'): Promise<number> {
  if (start === 'earliest') return t.start
  if (start === 'latest') return t.end
  if ('offset' in start) return Math.max(t.start, Math.min(start.offset, t.end))
  return t.offsetAt(name, start.time)
}
