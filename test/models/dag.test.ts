import { describe, expect, it } from 'vitest'
import { levels, select } from '../../src/models/dag.js'
import { type Model, type Project, parseModel } from '../../src/models/project.js'

const project = (files: Record<string, string>): Project => ({
  dir: '.',
  tests: [],
  models: new Map<string, Model>(
    Object.entries(files).map(([name, sql]) => [name, parseModel(`models/${name}.sql`, sql, 'model')]),
  ),
})

const p = project({
  stg: "select * from {{ source('x', 'tweets') }}",
  dim: "{{ config(materialized='table', tags=['core']) }}\nselect * from {{ ref('stg') }}",
  fact: "{{ config(materialized='table', tags=['core']) }}\nselect * from {{ ref('stg') }} join {{ ref('dim') }} using (id)",
  report: "select * from ref('fact')",
  other: 'select 1 as x',
})

describe('model selection and order', () => {
  it('name, name+, +name and tag:x select the models a data engineer expects', () => {
    expect([...select(p, ['dim'])].sort()).toEqual(['dim'])
    expect([...select(p, ['dim+'])].sort()).toEqual(['dim', 'fact', 'report'])
    expect([...select(p, ['+fact'])].sort()).toEqual(['dim', 'fact', 'stg'])
    expect([...select(p, ['tag:core', 'other'])].sort()).toEqual(['dim', 'fact', 'other'])
    expect([...select(p, ['stg+,other'])].sort()).toEqual(['dim', 'fact', 'other', 'report', 'stg'])
    expect(() => select(p, ['nope+'])).toThrow(/--select nope\+: no model named nope/)
  })

  it('levels run each model after what it refs; independent models share a level', () => {
    expect(levels(p, select(p, []))).toEqual([['other', 'stg'], ['dim'], ['fact'], ['report']])
    // Models not selected are taken as built already.
    expect(levels(p, select(p, ['fact+']))).toEqual([['fact'], ['report']])
  })

  it('reads config() values: strings, lists and booleans; a malformed config names its line', () => {
    const m = parseModel(
      'models/f.sql',
      "-- header\n{{ config(materialized='incremental', unique_key=['a', 'b'], partition_by='dt', tags=['x']) }}\nselect 1",
      'model',
    )
    expect(m.config).toMatchObject({
      materialized: 'incremental',
      strategy: 'merge',
      uniqueKey: ['a', 'b'],
      partitionBy: 'dt',
      tags: ['x'],
    })
    expect(() =>
      parseModel('models/g.sql', "\n\n{{ config(materialized='table', 42) }}\nselect 1", 'model'),
    ).toThrow(/^models\/g\.sql:3: config\(\) takes key=value pairs/)
    expect(() =>
      parseModel('models/h.sql', "{{ config(materialized='incremental') }}\nselect 1", 'model'),
    ).not.toThrow()
    expect(() =>
      parseModel(
        'models/i.sql',
        "{{ config(materialized='incremental', incremental_strategy='merge') }}\nselect 1",
        'model',
      ),
    ).toThrow(/^models\/i\.sql:1: an incremental merge needs unique_key/)
  })

  it('takes config from weir.config (models.config) where the file sets none; the file wins', () => {
    const defaults = { f: { materialized: 'incremental', unique_key: 'id', tags: ['x'] } }
    expect(parseModel('models/f.sql', 'select 1 as id', 'model', defaults).config).toMatchObject({
      materialized: 'incremental',
      uniqueKey: ['id'],
      tags: ['x'],
    })
    const own = parseModel(
      'models/f.sql',
      "{{ config(materialized='table') }}\nselect 1 as id",
      'model',
      defaults,
    )
    expect(own.config).toMatchObject({ materialized: 'table', uniqueKey: ['id'] })
  })
})
