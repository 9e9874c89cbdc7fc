import { listTables } from '../../catalog/catalog.js'
import { WeirError } from '../../core/errors.js'
import { parseBytes } from '../../core/units.js'
import { type RefineResult, refine } from '../../refine/refine.js'
import { parseRewind, rewind } from '../../refine/rewind.js'
import type { StageSummary } from '../pipeline.js'
import type { Resources } from '../resources.js'
import { sum, timed } from '../summary.js'
import { syncAfterRefine } from './glue.js'

/** Refines what is pending, after rewinding what `options.rewind` names. */
export async function refineStage(
  p: Resources,
  only?: readonly string[],
  options: { readonly rewind?: string; readonly waitForLease?: boolean } = {},
): Promise<StageSummary> {
  // DuckDB's start-up is not refine's time.
  const engine = await p.engine()
  const rewound: string[] = []
  if (options.rewind) {
    const target = parseRewind(options.rewind)
    for (const raw of await listTables(p.store, 'raw')) {
      if (only && !only.includes(raw.name)) continue
      const r = await rewind(p.store, engine, p.state, raw, target)
      if (r.named === 0) continue
      const parts = r.partitions === 'all' ? 'the whole table' : r.partitions.join(', ')
      rewound.push(`${r.table}: rewound ${r.named} raw files; rebuilding ${parts} from ${r.files} raw files`)
    }
    if (!rewound.length) {
      throw new WeirError(`--rewind ${options.rewind}: no refined raw file matches`, {
        code: 'REWIND_NOTHING',
        stage: 'refine',
      })
    }
  }
  const [results, seconds] = await timed(() => refineTables(p, only, options.waitForLease))
  const skipped = results.filter((r) => r.skipped).map((r) => `${r.table}: ${r.skipped}`)
  // Every table asked for, changed or not: a sync that failed before is done now.
  const glue = await syncAfterRefine(p, only ?? 'all')
  const undone = [...skipped, ...(glue ? [glue] : [])]
  return {
    ...(undone.length
      ? {
          outcome: skipped.length === results.length && !glue ? ('skipped' as const) : ('partial' as const),
          reason: undone.join('; '),
        }
      : {}),
    stage: 'refine',
    records: sum(results.map((r) => r.records)),
    files: sum(results.map((r) => r.files)),
    bytes: sum(results.map((r) => r.bytes)),
    errors: sum(results.map((r) => r.errors)),
    seconds,
    tables: Object.fromEntries(results.map((r) => [r.table, r.records])),
    notes: [...rewound, ...results.flatMap((r) => r.warnings)],
  }
}

/** One refine pass over the tables (all, or `only`), shared by `weir refine` and landing's micro-batches. */
export async function refineTables(
  p: Resources,
  only?: readonly string[],
  waitForLease = false,
): Promise<RefineResult[]> {
  return refine(p.store, await p.engine(), p.state, {
    tables: p.config.tables,
    stagingDir: await p.staging(),
    batchBytes: parseBytes(p.config.engine.refineBatch),
    leases: p.leases,
    waitForLease,
    onBatch: (table, done) =>
      p.progress({
        stage: 'refine',
        label: table,
        done: done.batches,
        unit: 'batches',
        records: done.records,
      }),
    ...(only ? { only } : {}),
  })
}
