import type { Consumer, ConsumerInfo } from '@nats-io/jetstream'
import { RECORDS_PER_MESSAGE, sequenceOf, subOf, userOffset } from '../envelope.js'
import { compareOffsets, type GroupStatus } from '../stream.js'
import type { NatsAdmin } from './admin.js'
import { recordsIn } from './batch.js'

/** Messages whose headers a lag count reads at most; past them it extrapolates. */
const COUNTED = 1_000

/** Each group's committed offset per partition and its lag in records (published, not committed). */
export async function groupStatus(a: NatsAdmin): Promise<GroupStatus[]> {
  const out: GroupStatus[] = []
  for await (const st of a.jsm.streams.list()) {
    if (!st.config.name.startsWith(`${a.prefix}_`)) continue
    const topic = st.config.name.slice(a.prefix.length + 1)
    const ends = new Map<string, string | undefined>()
    for await (const c of a.jsm.consumers.list(st.config.name)) {
      const m = /^(.*)-p(\d+)$/.exec(c.name)
      if (!m) continue
      const [, group, partition] = m as unknown as [string, string, string]
      if (!ends.has(partition)) {
        const last = await a.jsm.streams
          .getMessage(st.config.name, { last_by_subj: c.config.filter_subject ?? '' })
          .catch(() => undefined)
        ends.set(partition, last ? userOffset(last.seq, recordsIn(last.header) - 1) : undefined)
      }
      const end = ends.get(partition)
      out.push({ topic, partition, group: group!, end, ...(await position(a, c, topic, group!, end)) })
    }
  }
  return out.sort(
    (a, b) =>
      a.topic.localeCompare(b.topic) ||
      a.group.localeCompare(b.group) ||
      Number(a.partition) - Number(b.partition),
  )
}

/**
 * A group's committed offset and lag in one partition. Acks count messages, so the records come
 * from the headers of the messages after the ack floor (read by a headers-only consumer), less
 * those the group committed inside one (`positions.ts`).
 */
async function position(
  a: NatsAdmin,
  c: ConsumerInfo,
  topic: string,
  group: string,
  end: string | undefined,
) {
  const floor = c.ack_floor.stream_seq
  const inside = await a.positions.get(group, topic, c.name.slice(group.length + 2))
  const messages = c.num_pending + c.num_ack_pending
  if (messages === 0) return { committed: floor > 0 ? end : inside, lag: 0 }
  const info = await a.jsm.consumers.add(c.stream_name, {
    filter_subject: c.config.filter_subject,
    ack_policy: a.AckPolicy.None,
    headers_only: true,
    // From the last message acked, or, before any, where the group started.
    ...(floor > 0
      ? { deliver_policy: a.DeliverPolicy.StartSequence, opt_start_seq: floor }
      : c.config.deliver_policy === a.DeliverPolicy.New
        ? { deliver_policy: a.DeliverPolicy.StartTime, opt_start_time: c.created }
        : {
            deliver_policy: c.config.deliver_policy,
            ...(c.config.opt_start_seq ? { opt_start_seq: c.config.opt_start_seq } : {}),
            ...(c.config.opt_start_time ? { opt_start_time: c.config.opt_start_time } : {}),
          }),
    inactive_threshold: 60_000_000_000,
  })
  const reader = await a.js.consumers.get(c.stream_name, info.name)
  try {
    let committed = floor > 0 ? userOffset(floor, RECORDS_PER_MESSAGE - 1) : undefined
    let records = 0
    let counted = 0
    for (const m of await fetchAll(reader, Math.min(messages + 1, COUNTED))) {
      const n = recordsIn(m.headers)
      if (m.seq === floor) committed = userOffset(floor, n - 1)
      else if (m.seq > floor) {
        counted++
        records += n
        if (inside && m.seq === Number(sequenceOf(inside))) records -= subOf(inside) + 1
      }
    }
    if (inside && (committed === undefined || compareOffsets(inside, committed) > 0)) committed = inside
    const lag = counted < messages ? Math.round((records / Math.max(counted, 1)) * messages) : records
    return { committed, lag }
  } finally {
    await reader.delete().catch(() => false)
  }
}

/** Up to `n` messages; asks how many wait first, as a fetch for more would wait out its expiry. */
async function fetchAll(reader: Consumer, n: number) {
  const got = []
  while (got.length < n) {
    const waiting = (await reader.info()).num_pending
    if (waiting === 0) break
    const msgs = await reader.fetch({ max_messages: Math.min(n - got.length, waiting), expires: 2_000 })
    const before = got.length
    for await (const m of msgs) got.push(m)
    if (got.length === before) break
  }
  return got
}
