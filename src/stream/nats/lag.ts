import type { GroupStatus } from '../stream.js'
import type { NatsAdmin } from './admin.js'

/** Each group's committed sequence per partition and its lag (pending and unacknowledged records). */
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
        ends.set(partition, last ? String(last.seq) : undefined)
      }
      out.push({
        topic,
        partition,
        group: group!,
        committed: c.ack_floor.stream_seq > 0 ? String(c.ack_floor.stream_seq) : undefined,
        end: ends.get(partition),
        lag: c.num_pending + c.num_ack_pending,
      })
    }
  }
  return out.sort(
    (a, b) =>
      a.topic.localeCompare(b.topic) ||
      a.group.localeCompare(b.group) ||
      Number(a.partition) - Number(b.partition),
  )
}
