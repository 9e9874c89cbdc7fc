import type { NatsConnection } from '@nats-io/transport-node'

/**
 * Where each group stopped inside a message it committed in part, kept in a JetStream KV bucket
 * (`<prefix>-positions`, made at first use): acks take whole messages, and a landing file may end
 * in the middle of one. A key per group, topic and partition; its value the last offset committed.
 */
export function positionsOf(nc: NatsConnection, prefix: string) {
  let bucket: Promise<import('@nats-io/kv').KV> | undefined
  const kv = () => {
    bucket ??= import('@nats-io/kv').then(({ Kvm }) =>
      new Kvm(nc).create(`${prefix}-positions`, { history: 1 }),
    )
    return bucket
  }
  const key = (group: string, topic: string, partition: number | string) =>
    `${group}.${topic.replace(/[^A-Za-z0-9_-]/g, '_')}.${partition}`
  return {
    /** The offset a group committed in the middle of a message, if it ever did. */
    async get(group: string, topic: string, partition: number | string): Promise<string | undefined> {
      const e = await (await kv()).get(key(group, topic, partition))
      return e && e.operation === 'PUT' && e.length > 0 ? e.string() : undefined
    },
    /** Resolves once the server has stored it. */
    async set(group: string, topic: string, partition: number | string, offset: string) {
      await (await kv()).put(key(group, topic, partition), offset)
    },
    /** Forgets it: a group made again starts where it is told to, not where a namesake stopped. */
    async clear(group: string, topic: string, partition: number | string) {
      await (await kv()).purge(key(group, topic, partition))
    },
  }
}
