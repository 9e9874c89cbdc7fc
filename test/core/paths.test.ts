import { describe, expect, it } from 'vitest'
import { partitionPath, tableLocation } from '../../src/core/paths.js'

const time = new Date('2022-05-02T13:45:00Z')
const fields = { source: 'x', resource: 'tweets', format: 'json', time }

describe('partitionPath', () => {
  it('renders the default layout by UTC event date', () => {
    expect(partitionPath('raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}', fields)).toBe(
      'raw/x/json/tweets/2022/05/02',
    )
  })

  it("expresses the seed's own convention and Hive style", () => {
    expect(partitionPath('Raw/Twitter/JSON/{yyyy}/{mm}/{dd}', fields)).toBe('Raw/Twitter/JSON/2022/05/02')
    expect(partitionPath('raw/{resource}/year={yyyy}/month={mm}/day={dd}/hour={hh}', fields)).toBe(
      'raw/tweets/year=2022/month=05/day=02/hour=13',
    )
  })

  it('sanitises values so a record cannot escape its folder', () => {
    const evil = { ...fields, resource: '../../etc', source: '..' }
    const path = partitionPath('raw/{source}/{resource}/{yyyy}', evil)
    expect(path).toBe('raw/_/.._.._etc/2022')
    expect(path.split('/')).not.toContain('..')
  })

  it('rejects unknown fields with the list of known ones', () => {
    expect(() => partitionPath('raw/{city}', fields)).toThrow(
      /unknown field \{city\}; use source, resource, format, yyyy/,
    )
  })

  it("gives a table's location: the path before its first time field", () => {
    expect(tableLocation('raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}', fields)).toBe(
      'raw/x/json/tweets/',
    )
    expect(tableLocation('raw/{resource}/year={yyyy}/month={mm}', fields)).toBe('raw/tweets/')
  })
})
