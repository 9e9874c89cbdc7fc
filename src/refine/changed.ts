import type { TableEntry } from '../catalog/catalog.js'
import { WeirError } from '../core/errors.js'
import type { Engine } from '../engine/engine.js'
import type { StateStore } from '../state/state.js'
import type { ObjectStore } from '../storage/storage.js'
import { type Ledger, newRawFiles, readLedger } from './files.js'
import { rewind } from './rewind.js'

/**
 * Raw files that changed after they were refined (edited, rewritten, touched, or every file of a
 * copied lake) replace their rows rather than adding them again: their trusted partitions are
 * rewound, so this run rebuilds them from raw, with or without a primary key. When a partition
 * cannot be rebuilt (some of its raw files are gone), the old rows stay and the file is taken as
 * it is now, with a warning that says how to rebuild by hand.
 */
export async function replaceChanged(
  store: ObjectStore,
  engine: Engine,
  state: StateStore,
  raw: TableEntry,
): Promise<{ changed: number; notes: string[] }> {
  const name = `refine/${raw.name}`
  const ledger = await readLedger(state, name)
  const changed = (await newRawFiles(store, raw, ledger)).filter((o) => ledger.files[o.key])
  if (changed.length === 0) return { changed: 0, notes: [] }
  try {
    const r = await rewind(store, engine, state, raw, { keys: changed.map((o) => o.key) })
    const parts = r.partitions === 'all' ? 'the whole table' : `${r.partitions.length} partition(s)`
    return {
      changed: changed.length,
      notes: [`${raw.name}: ${changed.length} raw file(s) changed since refined; rebuilt ${parts} from raw`],
    }
  } catch (err) {
    if (!(err instanceof WeirError && err.code === 'REWIND_RAW_GONE')) throw err
    const files = { ...ledger.files }
    for (const o of changed) files[o.key] = { ...files[o.key]!, size: o.size, etag: o.etag }
    await state.put(name, { ...ledger, files } satisfies Ledger)
    return {
      changed: 0,
      notes: [
        `${raw.name}: ${changed.length} raw file(s) changed since refined (${changed[0]!.key}${changed.length > 1 ? ', …' : ''}) but their partitions cannot be rebuilt: ${err.message.replace(/^cannot rewind [^:]+: /, '')}; their old rows are kept`,
      ],
    }
  }
}
