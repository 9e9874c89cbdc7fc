import { describe, expect, it } from 'vitest'
import { filesToRead } from '../../src/models/materialize/incremental.js'

describe('filesToRead: what an incremental build reads of its driving input', () => {
  const built = ['t/dt=2026-11-01/a.parquet', 't/dt=2026-11-02/b.parquet']

  it('reads nothing when no file came or went', () => {
    expect(filesToRead('merge', built, [...built].reverse())).toBeUndefined()
  })

  it('reads the new files alone to append', () => {
    const now = [...built, 't/dt=2026-11-02/c.parquet']
    expect(filesToRead('append', built, now)).toEqual(['t/dt=2026-11-02/c.parquet'])
  })

  it('reads every file of each partition where a file came or went to merge or overwrite', () => {
    const now = ['t/dt=2026-11-01/a.parquet', 't/dt=2026-11-02/c.parquet', 't/dt=2026-11-02/d.parquet']
    expect(filesToRead('merge', built, now)).toEqual([
      't/dt=2026-11-02/c.parquet',
      't/dt=2026-11-02/d.parquet',
    ])
    expect(filesToRead('insert_overwrite', built, now.slice(0, 1))).toEqual([])
  })

  it('reads the whole input when it is not partitioned', () => {
    expect(filesToRead('merge', ['t/a.parquet'], ['t/a.parquet', 't/b.parquet'])).toEqual([
      't/a.parquet',
      't/b.parquet',
    ])
  })
})
