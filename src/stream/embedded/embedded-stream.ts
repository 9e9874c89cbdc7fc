import { mkdir, open, readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { WeirError } from '../../core/errors.js'
import {
  type Checkpoint,
  type Consumer,
  type ConsumerOptions,
  type Delivery,
  type GroupStatus,
  type Position,
  partitionOf,
  rotation,
  type StartAt,
  type Stream,
  type StreamRecordInput,
  setOffset,
  unassignable,
} from '../stream.js'
import { encode } from './frame.js'
import { TopicLog, type TopicLogOptions } from './topic-log.js'
import { writerLock } from './writer-lock.js'

export interface EmbeddedStreamOptions {
  /** Partitions of a new topic (default 1); a topic keeps the count it was created with. */
  readonly partitions?: number
  /** Bytes per segment file before a new one starts (default 128 MB). */
  readonly segmentBytes?: number
  readonly retention?: TopicLogOptions['retention']
  /** Bytes a partition accepts ahead of its writes before publishers wait (default 64 MB). */
  readonly maxQueuedBytes?: number
}

interface Topic {
  readonly name: string
  readonly parts: readonly TopicLog[]
  /** Where the next keyless publish goes: each one to a single partition, in turn. */
  next: number
}

/** Per topic, per partition: the offset of the next record the group needs. */
type GroupFile = Record<string, Record<string, number>>

/**
 * The default stream: per topic and partition, a folder of append-only, checksummed segment files
 * in a local directory, fsynced before `publish` resolves (group commit), with committed offsets per
 * consumer group stored beside them. After `kill -9` it reopens, cuts a torn tail and loses no
 * acknowledged record.
 *
 * @example const stream = await createEmbeddedStream('./lake/_stream', { partitions: 4 })
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
  const lock = writerLock(dir)
  const logOptions: TopicLogOptions = {
    segmentBytes,
    beforeWrite: lock.acquire,
    ...(options.retention ? { retention: options.retention } : {}),
    ...(options.maxQueuedBytes ? { maxQueuedBytes: options.maxQueuedBytes } : {}),
  }
  const topics = new Map<string, Promise<Topic>>()
  const topic = (name: string) => {
    if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('_')) {
      throw new WeirError(`stream topic "${name}": use letters, digits, _ . - (not starting with _)`, {
        code: 'STREAM_TOPIC',
        stage: 'stream',
      })
    }
    let t = topics.get(name)
    if (!t) {
      t = openTopic(join(dir, name), name, options.partitions ?? 1, logOptions)
      topics.set(name, t)
    }
    return t
  }
  const readGroup = async (group: string): Promise<GroupFile> =>
    JSON.parse(await readFile(join(dir, '_groups', `${group}.json`), 'utf8').catch(() => '{}'))

  return {
    async publish(name, records) {
      const t = await topic(name)
      const n = t.parts.length
      const out: Position[] = new Array(records.length)
      const byPartition = new Map<number, number[]>()
      const keyless = t.next++ % n
      for (const [i, r] of records.entries()) {
        const p = r.key === undefined ? keyless : partitionOf(r.key, n)
        const list = byPartition.get(p)
        if (list) list.push(i)
        else byPartition.set(p, [i])
      }
      await Promise.all(
        [...byPartition].map(async ([p, idx]) => {
          const part = idx.length === records.length ? records : idx.map((i) => records[i]!)
          const { buf, positions, lastTs } = encodeOrFail(name, part)
          const offsets = await t.parts[p]!.append(buf, positions, lastTs)
          for (const [k, i] of idx.entries()) out[i] = { partition: String(p), offset: String(offsets[k]) }
        }),
      )
      return out
    },

    async consumer(group, names, options: ConsumerOptions = {}) {
      if (options.partitions) throw unassignable('the embedded stream')
      const groupFile = join(dir, '_groups', `${group}.json`)
      const committed = await readGroup(group)
      const subs: { t: Topic; p: number; next: number }[] = []
      for (const n of names) {
        const t = await topic(n)
        for (const [p, log] of t.parts.entries()) {
          const next = committed[n]?.[p] ?? (await startOffset(log, String(p), options.start))
          subs.push({ t, p, next })
        }
      }
      const inTurn = rotation(subs)
      return {
        async poll({ maxRecords }) {
          const out: Delivery[] = []
          for (const s of inTurn()) {
            if (out.length >= maxRecords) break
            const log = s.t.parts[s.p]!
            // Records before the partition's start were removed by retention: carry on from what is kept.
            let from = Math.max(s.next, log.start)
            while (out.length < maxRecords && from < log.end) {
              const got = await log.read(
                s.t.name,
                String(s.p),
                from,
                Math.min(log.end, from + maxRecords - out.length),
              )
              if (got.length === 0) break
              out.push(...got)
              from += got.length
            }
            s.next = from
          }
          return out
        },
        async commit(done) {
          for (const [name, parts] of Object.entries(done)) {
            const t = committed[name] ?? {}
            for (const [p, last] of Object.entries(parts)) t[p] = Number(last) + 1
            committed[name] = t
          }
          await mkdir(join(dir, '_groups'), { recursive: true })
          await writeDurably(groupFile, JSON.stringify(committed))
        },
        position() {
          const out: Checkpoint = {}
          for (const s of subs) if (s.next > 0) setOffset(out, s.t.name, String(s.p), String(s.next - 1))
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
        for (const [name, parts] of Object.entries(await readGroup(group))) {
          for (const [p, log] of (await topic(name)).parts.entries()) {
            const next = parts[p]
            out.push({
              topic: name,
              partition: String(p),
              group,
              committed: next ? String(next - 1) : undefined,
              end: log.end > 0 ? String(log.end - 1) : undefined,
              lag: log.end - Math.max(next ?? log.start, log.start),
            })
          }
        }
      }
      // In one order, as on NATS: a group's commits record its topics in the order they came.
      return out.sort(
        (a, b) =>
          a.topic.localeCompare(b.topic) ||
          a.group.localeCompare(b.group) ||
          Number(a.partition) - Number(b.partition),
      )
    },

    async *readSince(name, since) {
      const t = await topic(name)
      for (const [p, log] of t.parts.entries()) {
        const end = log.end
        for (let from = Math.max(log.start, await log.offsetAt(since)); from < end; ) {
          const got = await log.read(name, String(p), from, Math.min(end, from + 5_000))
          if (got.length === 0) break
          yield got
          from += got.length
        }
      }
    },

    async topics() {
      const entries = await readdir(dir, { withFileTypes: true })
      return entries.filter((e) => !e.name.startsWith('_') && e.isDirectory()).map((e) => e.name)
    },

    async close() {
      for (const t of topics.values()) for (const log of (await t).parts) await log.close()
      topics.clear()
      await lock.release()
    },
  }
}

/**
 * Opens a topic's partitions. The partition count is written when the topic is created and kept:
 * changing it would send a key to another partition and break its order.
 */
async function openTopic(
  path: string,
  name: string,
  partitions: number,
  opts: TopicLogOptions,
): Promise<Topic> {
  await mkdir(path, { recursive: true })
  const metaFile = join(path, '_topic.json')
  const meta = await readFile(metaFile, 'utf8').then(
    (s) => JSON.parse(s) as { partitions: number },
    () => undefined,
  )
  if (meta && meta.partitions !== partitions) {
    throw new WeirError(
      `stream topic "${name}" has ${meta.partitions} partition(s) on disk but the config asks for ${partitions}; a topic keeps its partition count (set partitions: ${meta.partitions}, or delete ${path} to start the topic over)`,
      { code: 'STREAM_CONFIG', stage: 'config' },
    )
  }
  if (!meta) await writeDurably(metaFile, JSON.stringify({ partitions }))
  const parts = await Promise.all(
    Array.from({ length: partitions }, (_, p) => TopicLog.open(join(path, String(p)), opts)),
  )
  return { name, parts, next: 0 }
}

function encodeOrFail(topic: string, records: readonly StreamRecordInput[]) {
  try {
    return encode(records, Date.now())
  } catch (err) {
    throw new WeirError(`stream topic "${topic}": cannot publish: ${(err as Error).message}`, {
      code: 'STREAM_RECORD',
      stage: 'stream',
      cause: err,
    })
  }
}

/** Writes a small file so that a crash leaves either the old content or the new, never a torn one. */
async function writeDurably(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp`
  await writeFile(tmp, text)
  const fh = await open(tmp, 'r+')
  await fh.sync()
  await fh.close()
  await rename(tmp, file)
}

/** Where a group without a commit starts in one partition. */
async function startOffset(log: TopicLog, partition: string, start: StartAt = 'earliest'): Promise<number> {
  if (start === 'earliest') return log.start
  if (start === 'latest') return log.end
  if ('time' in start) return log.offsetAt(start.time)
  const at = start.from.find((p) => p.partition === partition)
  return at ? Math.max(log.start, Math.min(Number(at.offset), log.end)) : log.start
}
