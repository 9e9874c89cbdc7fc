import type { AttributeValue, DynamoDBClient, WriteRequest } from '@aws-sdk/client-dynamodb'
import { sleep } from '../../core/time.js'
import {
  decodeCursor,
  encodeCursor,
  type Item,
  indexValue,
  type Page,
  type ServingStore,
  type TableSpec,
} from './store.js'

/**
 * The serving store on DynamoDB: a table per served table (partition key `k`), the item as a JSON
 * string, and per indexed field a GSI whose partition key is a constant and whose sort key is the
 * field (`ix_<field>`), so one Query reads a value, a range or a prefix in order. (One partition per
 * index is fine for the tables a pipeline serves; a very hot table would shard the constant.)
 */
export async function createDynamoStore(cfg: {
  readonly prefix: string
  readonly region?: string | undefined
  readonly endpoint?: string | undefined
}): Promise<ServingStore> {
  const sdk = await import('@aws-sdk/client-dynamodb')
  const endpoint = cfg.endpoint ?? process.env.AWS_ENDPOINT_URL_DYNAMODB ?? process.env.AWS_ENDPOINT_URL
  const client: DynamoDBClient = new sdk.DynamoDBClient({
    region: cfg.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
  })
  const name = (t: TableSpec) => `${cfg.prefix}${t.name}`
  const attr = (field: string) => `ix_${field.replace(/\./g, '__')}`
  const gsi = (field: string) => `by_${field.replace(/\./g, '__')}`
  const ready = new Set<string>()
  const typed = (v: string | number): AttributeValue => (typeof v === 'number' ? { N: String(v) } : { S: v })

  /** One BatchWriteItem of at most 25 requests, sending again what DynamoDB left unprocessed. */
  const batchWrite = async (t: TableSpec, first: WriteRequest[]) => {
    let requests = first
    for (let attempt = 0; requests.length; attempt++) {
      const out = await client.send(new sdk.BatchWriteItemCommand({ RequestItems: { [name(t)]: requests } }))
      requests = out.UnprocessedItems?.[name(t)] ?? []
      if (requests.length) await sleep(Math.min(2000, 50 * 2 ** attempt))
    }
  }
  return {
    kind: 'dynamodb',
    async ensure(t) {
      if (ready.has(t.name)) return
      const fields = Object.entries(t.indexes)
      try {
        await client.send(
          new sdk.CreateTableCommand({
            TableName: name(t),
            BillingMode: 'PAY_PER_REQUEST',
            AttributeDefinitions: [
              { AttributeName: 'k', AttributeType: 'S' },
              ...(fields.length ? [{ AttributeName: 'ix', AttributeType: 'S' as const }] : []),
              ...fields.map(([f, type]) => ({
                AttributeName: attr(f),
                AttributeType: type === 'number' ? ('N' as const) : ('S' as const),
              })),
            ],
            KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }],
            ...(fields.length
              ? {
                  GlobalSecondaryIndexes: fields.map(([f]) => ({
                    IndexName: gsi(f),
                    KeySchema: [
                      { AttributeName: 'ix', KeyType: 'HASH' as const },
                      { AttributeName: attr(f), KeyType: 'RANGE' as const },
                    ],
                    Projection: { ProjectionType: 'ALL' as const },
                  })),
                }
              : {}),
          }),
        )
        await sdk.waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: name(t) })
      } catch (err) {
        if ((err as { name?: string }).name !== 'ResourceInUseException') throw err
      }
      ready.add(t.name)
    },
    async upsert(t, rows) {
      const fields = Object.entries(t.indexes)
      // One item per key in a batch (the last wins), 25 per request, unprocessed ones sent again.
      const byKey = new Map(rows.map((r) => [r.key, r]))
      const all = [...byKey.values()]
      for (let i = 0; i < all.length; i += 25) {
        const requests = all.slice(i, i + 25).map((r) => {
          const item: Record<string, AttributeValue> = {
            k: { S: r.key },
            item: { S: JSON.stringify(r.item) },
          }
          if (fields.length) item.ix = { S: '1' }
          for (const [f, type] of fields) {
            const v = indexValue(r.item, f, type)
            if (v !== undefined) item[attr(f)] = typed(v)
          }
          return { PutRequest: { Item: item } }
        })
        await batchWrite(t, requests)
      }
    },
    async delete(t, keys) {
      for (let i = 0; i < keys.length; i += 25)
        await batchWrite(
          t,
          [...new Set(keys.slice(i, i + 25))].map((k) => ({ DeleteRequest: { Key: { k: { S: k } } } })),
        )
    },
    async get(t, key) {
      const out = await client.send(
        new sdk.GetItemCommand({ TableName: name(t), Key: { k: { S: key } }, ConsistentRead: true }),
      )
      return out.Item?.item?.S ? (JSON.parse(out.Item.item.S) as Item) : undefined
    },
    async count(t) {
      let n = 0
      let start: Record<string, AttributeValue> | undefined
      do {
        const out = await client.send(
          new sdk.ScanCommand({
            TableName: name(t),
            Select: 'COUNT',
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        )
        n += out.Count ?? 0
        start = out.LastEvaluatedKey
      } while (start)
      return n
    },
    async query(t, q) {
      if (!q.index) {
        // Every item, in no particular order but a stable one: a Scan, resumed from its last key.
        const [k] = q.cursor ? decodeCursor(q.cursor, (c) => c.length === 1 && typeof c[0] === 'string') : []
        const out = await client.send(
          new sdk.ScanCommand({
            TableName: name(t),
            Limit: q.limit,
            ...(k ? { ExclusiveStartKey: { k: { S: String(k) } } } : {}),
          }),
        )
        const items = (out.Items ?? []).map((i) => ({ key: i.k!.S!, item: JSON.parse(i.item!.S!) as Item }))
        return {
          items,
          ...(out.LastEvaluatedKey ? { cursor: encodeCursor([out.LastEvaluatedKey.k?.S]) } : {}),
        } satisfies Page
      }
      const a = attr(q.index)
      const type = t.indexes[q.index]!
      // `in` reads each value in turn; the cursor says which value and where in it.
      const values = q.where?.op === 'in' ? [...q.where.values] : [undefined]
      const [vi = 0, last] = q.cursor
        ? (decodeCursor(
            q.cursor,
            (c) =>
              c.length === 2 &&
              Number.isInteger(c[0]) &&
              (c[0] as number) >= 0 &&
              (c[0] as number) < values.length &&
              (c[1] === null || (typeof c[1] === 'object' && !Array.isArray(c[1]))),
          ) as [number, Record<string, AttributeValue> | undefined])
        : []
      const items: { key: string; item: Item }[] = []
      for (let i = vi; i < values.length; i++) {
        let start = i === vi ? last : undefined
        while (items.length < q.limit) {
          const names: Record<string, string> = { '#ix': 'ix', '#v': a }
          const vals: Record<string, AttributeValue> = { ':one': { S: '1' } }
          let cond = '#ix = :one'
          const w = q.where
          if (w && w.op === 'in') {
            vals[':v'] = typed(toType(values[i]!, type))
            cond += ' AND #v = :v'
          } else if (w?.op === 'prefix') {
            vals[':v'] = { S: w.value }
            cond += ' AND begins_with(#v, :v)'
          } else if (w) {
            vals[':v'] = typed(toType(w.value, type))
            cond += ` AND #v ${{ eq: '=', gt: '>', gte: '>=', lt: '<', lte: '<=' }[w.op]} :v`
          }
          const out = await client.send(
            new sdk.QueryCommand({
              TableName: name(t),
              IndexName: gsi(q.index),
              KeyConditionExpression: cond,
              ExpressionAttributeNames: w ? names : { '#ix': 'ix' },
              ExpressionAttributeValues: vals,
              ScanIndexForward: !q.desc,
              Limit: q.limit - items.length,
              ...(start ? { ExclusiveStartKey: start } : {}),
            }),
          )
          for (const it of out.Items ?? [])
            items.push({ key: it.k!.S!, item: JSON.parse(it.item!.S!) as Item })
          start = out.LastEvaluatedKey
          if (!start) break
          if (items.length >= q.limit) return { items, cursor: encodeCursor([i, start]) }
        }
        if (items.length >= q.limit) {
          // Full: go on at the next value (or this one, if a page boundary fell inside it).
          return i + 1 < values.length ? { items, cursor: encodeCursor([i + 1, undefined]) } : { items }
        }
      }
      return { items }
    },
    async ping() {
      await client.send(new sdk.ListTablesCommand({ Limit: 1 }))
    },
    async close() {
      client.destroy()
    },
  }

  function toType(v: string | number, type: 'string' | 'number'): string | number {
    return type === 'number' ? Number(v) : String(v)
  }
}
