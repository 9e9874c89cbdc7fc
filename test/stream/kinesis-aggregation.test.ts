import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { aggregate, deaggregate } from '../../src/stream/kinesis/aggregation.js'

/**
 * Weir's KPL aggregation against AWS's own library (aws-kinesis-agg, what a Lambda consumer uses):
 * what Weir writes, AWS deaggregates record for record, and what AWS aggregates, Weir reads.
 */
const agg = createRequire(import.meta.url)('aws-kinesis-agg') as {
  deaggregateSync(
    r: { data: string; partitionKey: string; sequenceNumber: string },
    checksums: boolean,
    done: (
      err: Error | null,
      records?: { partitionKey: string; data: string; subSequenceNumber: number }[],
    ) => void,
  ): void
  aggregate(
    records: { partitionKey: string; data: Buffer }[],
    onRecord: (r: { partitionKey: string; data: Buffer }, cb: (err?: Error) => void) => void,
    after: () => void,
    onError: (err: Error) => void,
  ): void
}

const users = Array.from({ length: 300 }, (_, i) => ({
  key: `user-${i % 7}`,
  data: Buffer.from(JSON.stringify({ i, text: 'é'.repeat(i % 50), bytes: [0, 255, i % 256] })),
}))

describe('KPL aggregation', () => {
  it('AWS deaggregation reads what Weir aggregates: keys, bytes and order, checksum verified', () => {
    const data = aggregate(users)
    let got: { partitionKey: string; data: string; subSequenceNumber: number }[] = []
    agg.deaggregateSync(
      { data: data.toString('base64'), partitionKey: 'user-0', sequenceNumber: '1' },
      true,
      (err, records) => {
        if (err) throw err
        got = records!
      },
    )
    expect(got.map((r) => r.partitionKey)).toEqual(users.map((u) => u.key))
    expect(got.map((r) => Buffer.from(r.data, 'base64'))).toEqual(users.map((u) => u.data))
    expect(got.map((r) => r.subSequenceNumber)).toEqual(users.map((_, i) => i))
  })

  it('Weir reads what AWS aggregates, and gzip round-trips', async () => {
    const encoded: Buffer[] = []
    await new Promise<void>((resolve, reject) =>
      agg.aggregate(
        users.map((u) => ({ partitionKey: u.key, data: u.data })),
        (r, cb) => {
          encoded.push(r.data)
          cb()
        },
        resolve,
        reject,
      ),
    )
    const back = encoded.flatMap((e) => deaggregate(e) ?? [])
    expect(back).toEqual(users)
    expect(deaggregate(aggregate(users, true))).toEqual(users)
  })

  it('a record that is not an aggregate, or whose checksum fails, is left as it is', () => {
    expect(deaggregate(Buffer.from('{"a":1}'))).toBeUndefined()
    const bad = aggregate(users.slice(0, 3))
    bad[bad.length - 1]! ^= 1
    expect(deaggregate(bad)).toBeUndefined()
  })
})
