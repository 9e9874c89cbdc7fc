import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import type { TableEntry } from '../../src/catalog/catalog.js'
import { tableDdl } from '../../src/catalog/ddl.js'
import { redshiftType } from '../../src/catalog/ddl-redshift.js'
import { parse } from '../../src/catalog/types.js'
import { WeirError } from '../../src/core/errors.js'
import { tweets } from './ddl.fixture.js'

const golden = (name: string) => readFile(`test/fixtures/ddl/${name}`, 'utf8')

/** trusted.x_tweets with its live files on three days (two files on one), and struct fields Redshift can name. */
const live: TableEntry = {
  ...tweets,
  columns: tweets.columns.map((c) =>
    c.name === 'public_metrics'
      ? { ...c, type: 'STRUCT(like_count BIGINT, retweet_count BIGINT, quote_count BIGINT)' }
      : c,
  ),
  files: [
    'trusted/x/tweets/dt=2026-11-20/part-000001.parquet',
    'trusted/x/tweets/dt=2026-11-21/part-000001.parquet',
    'trusted/x/tweets/dt=2026-11-21/part-000002.parquet',
    'trusted/x/tweets/dt=2026-11-22/part-000002.parquet',
  ],
}

describe('Redshift Spectrum DDL', () => {
  it('writes the external schema, the external table with Redshift types and the live partitions, as the golden file', async () => {
    const ddl = tableDdl(live, 'redshift', 's3://weir-lake/prod', {
      iamRole: 'arn:aws:iam::123456789012:role/weir-spectrum',
    })
    expect(ddl).toBe(await golden('x_tweets.redshift.sql'))
  })

  it("uses the cluster's default role when none is given, and one ALTER per hundred partitions (Glue's limit)", () => {
    const days = Array.from({ length: 150 }, (_, i) =>
      new Date(Date.UTC(2026, 0, 1 + i)).toISOString().slice(0, 10),
    )
    const ddl = tableDdl(
      { ...live, files: days.map((d) => `trusted/x/tweets/dt=${d}/p.parquet`) },
      'redshift',
      's3://b/l',
    )
    expect(ddl).toMatch(/^IAM_ROLE default$/m)
    expect(ddl.match(/^ALTER TABLE trusted\.x_tweets ADD IF NOT EXISTS$/gm)).toHaveLength(2)
    expect(ddl.match(/PARTITION \(dt='/g)).toHaveLength(150)
  })

  it('maps what Redshift lacks: unsigned and 128-bit integers to DECIMAL, zoned timestamps to TIMESTAMP, text to VARCHAR(MAX)', () => {
    const t = (s: string) => redshiftType(parse(s))
    expect(t('UBIGINT')).toBe('decimal(20,0)')
    expect(t('HUGEINT')).toBe('decimal(38,0)')
    expect(t('UINTEGER')).toBe('bigint')
    expect(t('TINYINT')).toBe('smallint')
    expect(t('TIMESTAMP WITH TIME ZONE')).toBe('timestamp')
    expect(t('VARCHAR')).toBe('varchar(max)')
    expect(t('DECIMAL(18,3)')).toBe('decimal(18,3)')
    expect(t('STRUCT(a VARCHAR, b BIGINT[])[]')).toBe('array<struct<a:varchar(max),b:array<bigint>>>')
    expect(t('MAP(VARCHAR, DOUBLE)')).toBe('map<varchar(max),double precision>')
  })

  it('refuses in one line what Spectrum cannot read: lists of lists, struct fields it cannot name, non-Parquet tables', () => {
    const fail = (fn: () => unknown) => {
      try {
        fn()
      } catch (err) {
        return err as WeirError
      }
      throw new Error('expected an error')
    }
    const nested = fail(() => redshiftType(parse('BIGINT[][]'), 'refined.m.c'))
    expect(nested).toBeInstanceOf(WeirError)
    expect(nested.code).toBe('CATALOG_DDL_TYPE')
    expect(nested.message).toMatch(/^catalog ddl: refined\.m\.c is a list of lists/)
    expect(fail(() => tableDdl(tweets, 'redshift', 's3://b/l')).message).toMatch(/struct field "quote count"/)
    expect(fail(() => tableDdl({ ...tweets, format: 'ndjson' }, 'redshift', 's3://b/l')).code).toBe(
      'CATALOG_DDL_FORMAT',
    )
  })
})
