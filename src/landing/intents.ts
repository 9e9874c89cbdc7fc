import type { StateStore } from '../state/state.js'
import type { Intent } from './landing-types.js'

/**
 * Where landing keeps its intents: one state document per partition, so the process that lands a
 * partition next (after a crash, whether one process lands them all or several share them) replays
 * exactly what the last one recorded.
 */
export interface IntentLog {
  /** The intents of the partitions this process lands (all that have some, when none are assigned). */
  load(): Promise<Intent[]>
  /** Saves `intents` as the whole set, writing only the partitions whose list changed. */
  save(intents: readonly Intent[]): Promise<void>
}

export function createIntentLog(
  state: StateStore,
  group: string,
  topics: readonly string[],
  /** The partitions assigned to this process so far, when it shares the landing; undefined: all. */
  owned: readonly { topic: string; partition: string }[] | undefined,
): IntentLog {
  const legacyDoc = `landing/${group}/intents`
  const partDoc = (topic: string, partition: string) => `landing/${group}/parts/${topic}/${partition}/intents`
  const saved = new Map<string, string>()
  let migrated = false
  /** Without assigned partitions: every partition of the landed topics that has intents saved. */
  const partitionsWithIntents = async () => {
    const out: { topic: string; partition: string }[] = []
    for (const topic of topics) {
      for (const name of await state.list(`landing/${group}/parts/${topic}`)) {
        const m = /\/parts\/[^/]+\/([^/]+)\/intents$/.exec(name)
        if (m) out.push({ topic, partition: m[1]! })
      }
    }
    return out
  }
  return {
    async load() {
      const out: Intent[] = []
      // Before intents were kept per partition, one process kept them all in one document.
      const legacy = (await state.get<{ intents: Intent[] }>(legacyDoc))?.intents ?? []
      const mine = (i: Intent) =>
        !owned || owned.some((o) => o.topic === i.topic && o.partition === i.partition)
      out.push(...legacy.filter(mine))
      const parts = owned ?? (await partitionsWithIntents())
      for (const o of parts) {
        const doc = await state.get<{ intents: Intent[] }>(partDoc(o.topic, o.partition))
        saved.set(partDoc(o.topic, o.partition), JSON.stringify(doc?.intents ?? []))
        out.push(...(doc?.intents ?? []))
      }
      return out
    },
    async save(intents) {
      const by = new Map<string, Intent[]>()
      for (const o of owned ?? []) by.set(partDoc(o.topic, o.partition), [])
      for (const doc of saved.keys()) by.set(doc, [])
      for (const i of intents) {
        const doc = partDoc(i.topic, i.partition)
        const list = by.get(doc)
        if (list) list.push(i)
        else by.set(doc, [i])
      }
      for (const [doc, list] of by) {
        const text = JSON.stringify(list)
        if ((saved.get(doc) ?? '[]') === text) continue
        await state.put(doc, { intents: list })
        saved.set(doc, text)
      }
      if (!migrated && !owned) {
        // Once written per partition, the old single document goes (emptied: the state has no delete).
        if (await state.get(legacyDoc)) await state.put(legacyDoc, { intents: [] })
        migrated = true
      }
    },
  }
}
