import { type GlobalOptions, withPipeline } from '../context.js'
import { type Format, renderRows } from '../output.js'

/** `weir status`: each stream consumer group's position and lag, and each source's last run. */
export async function statusCommand(opts: { format: Format }, globals: GlobalOptions): Promise<void> {
  await withPipeline(globals, async (p) => {
    const stream = await p.stream()
    const groups = await stream.groups()
    const sources = []
    for (const name of Object.keys(p.config.sources)) {
      const s = await p.state.get<{ run?: string; updatedAt?: string }>(`sources/${name}`)
      sources.push({ source: name, last_run: s?.run ?? null, cursor_saved: s?.updatedAt ?? null })
    }
    // The last run of each job (`weir runs` has them all).
    const { createRunHistory } = await import('../../scheduler/history.js')
    const recent = await createRunHistory(p.state).list({ limit: 1000 })
    const latest = new Map<string, (typeof recent)[number]>()
    for (const r of recent) if (!latest.has(r.job)) latest.set(r.job, r) // newest first
    const jobs = [...latest.values()]
      .sort((a, b) => a.job.localeCompare(b.job))
      .map((r) => ({
        job: r.job,
        last_start: r.start,
        outcome: r.outcome,
        records: r.records,
        error: r.error ?? null,
      }))
    if (opts.format === 'json') {
      process.stdout.write(
        `${JSON.stringify({ lake: p.store.uri, stream: p.config.stream.kind, groups, sources, jobs })}\n`,
      )
      return
    }
    const cols = (names: string[]) => names.map((name) => ({ name, type: '' }))
    const lines = [
      `lake ${p.store.uri}, stream ${p.config.stream.kind}`,
      '',
      'consumer groups',
      groups.length
        ? renderRows(
            {
              columns: cols(['topic', 'partition', 'group', 'committed', 'end', 'lag', 'behind']),
              rows: groups.map((g) => ({
                topic: g.topic,
                partition: g.partition,
                group: g.group,
                committed: g.committed ?? null,
                end: g.end ?? null,
                lag: g.lag ?? null,
                behind: g.behindMs === undefined ? null : `${Math.round(g.behindMs / 1000)}s`,
              })),
            },
            'table',
          )
        : '(none yet: run `weir land` or `weir demo`)',
    ]
    if (sources.length) {
      lines.push(
        '',
        'sources',
        renderRows({ columns: cols(['source', 'last_run', 'cursor_saved']), rows: sources }, 'table'),
      )
    }
    if (jobs.length) {
      lines.push(
        '',
        'jobs (last run)',
        renderRows(
          { columns: cols(['job', 'last_start', 'outcome', 'records', 'error']), rows: jobs },
          'table',
        ),
      )
    }
    process.stdout.write(`${lines.join('\n')}\n`)
  })
}
