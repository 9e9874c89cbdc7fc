import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { DatabaseInput, PartitionInput, TableInput } from '@aws-sdk/client-glue'

/** The fields of the requests it answers. */
interface Req {
  Name: string
  DatabaseName: string
  TableName: string
  NextToken?: string
  DatabaseInput: DatabaseInput & { Name: string }
  TableInput: TableInput & { Name: string }
  PartitionInputList: PartitionInput[]
  PartitionsToDelete: { Values: string[] }[]
}
type StoredTable = TableInput & { DatabaseName: string; VersionId: string }
type StoredPartition = PartitionInput & { Values: string[]; DatabaseName: string; TableName: string }

/**
 * An in-memory stand-in for the AWS Glue Data Catalog's JSON API (the calls `catalog sync-glue`
 * makes), for tests: there is no Glue emulator on npm, and Weir's side of the protocol is the AWS
 * SDK's own serialisation, which this answers as Glue does (awsJson1_1, `__type` errors, paged
 * GetPartitions). It checks what Glue checks for these calls: the database exists, a table is not
 * created twice, a partition is not added twice.
 */
export async function startGlue(pageSize = 2) {
  const databases = new Map<string, DatabaseInput>()
  const tables = new Map<string, StoredTable>()
  const partitions = new Map<string, Map<string, StoredPartition>>()
  const calls: { op: string; body: Partial<Req> }[] = []
  const fail = (type: string, message: string) => ({ status: 400, body: { __type: type, Message: message } })
  const ops: Record<string, (b: Req) => { status?: number; body: unknown }> = {
    GetDatabase: (b) =>
      databases.has(b.Name)
        ? { body: { Database: databases.get(b.Name) } }
        : fail('EntityNotFoundException', `Database ${b.Name} not found.`),
    CreateDatabase: (b) => {
      if (databases.has(b.DatabaseInput.Name))
        return fail('AlreadyExistsException', 'Database already exists.')
      databases.set(b.DatabaseInput.Name, b.DatabaseInput)
      return { body: {} }
    },
    GetTable: (b) => {
      if (!databases.has(b.DatabaseName)) return fail('EntityNotFoundException', 'Database not found.')
      const t = tables.get(`${b.DatabaseName}.${b.Name}`)
      return t ? { body: { Table: t } } : fail('EntityNotFoundException', `Table ${b.Name} not found.`)
    },
    CreateTable: (b) => {
      if (!databases.has(b.DatabaseName)) return fail('EntityNotFoundException', 'Database not found.')
      const key = `${b.DatabaseName}.${b.TableInput.Name}`
      if (tables.has(key)) return fail('AlreadyExistsException', 'Table already exists.')
      tables.set(key, { ...b.TableInput, DatabaseName: b.DatabaseName, VersionId: '1' })
      partitions.set(key, new Map())
      return { body: {} }
    },
    UpdateTable: (b) => {
      const key = `${b.DatabaseName}.${b.TableInput.Name}`
      const t = tables.get(key)
      if (!t) return fail('EntityNotFoundException', 'Table not found.')
      tables.set(key, {
        ...b.TableInput,
        DatabaseName: b.DatabaseName,
        VersionId: String(Number(t.VersionId) + 1),
      })
      return { body: {} }
    },
    GetPartitions: (b) => {
      const all = partitions.get(`${b.DatabaseName}.${b.TableName}`)
      if (!all) return fail('EntityNotFoundException', 'Table not found.')
      const start = Number(b.NextToken ?? 0)
      const list = [...all.values()].slice(start, start + pageSize)
      const next = start + pageSize < all.size ? { NextToken: String(start + pageSize) } : {}
      return { body: { Partitions: list, ...next } }
    },
    BatchCreatePartition: (b) => {
      const all = partitions.get(`${b.DatabaseName}.${b.TableName}`)
      if (!all) return fail('EntityNotFoundException', 'Table not found.')
      if (b.PartitionInputList.length > 100) return fail('InvalidInputException', 'at most 100 partitions')
      const Errors = []
      for (const p of b.PartitionInputList) {
        const k = JSON.stringify(p.Values)
        if (all.has(k))
          Errors.push({ PartitionValues: p.Values, ErrorDetail: { ErrorCode: 'AlreadyExistsException' } })
        else
          all.set(k, { ...p, Values: p.Values ?? [], DatabaseName: b.DatabaseName, TableName: b.TableName })
      }
      return { body: { Errors } }
    },
    BatchDeletePartition: (b) => {
      const all = partitions.get(`${b.DatabaseName}.${b.TableName}`)
      if (!all) return fail('EntityNotFoundException', 'Table not found.')
      if (b.PartitionsToDelete.length > 25) return fail('InvalidInputException', 'at most 25 partitions')
      for (const p of b.PartitionsToDelete) all.delete(JSON.stringify(p.Values))
      return { body: { Errors: [] } }
    },
  }
  const server = createServer((req, res) => {
    let text = ''
    req.on('data', (d) => {
      text += d
    })
    req.on('end', () => {
      const op = String(req.headers['x-amz-target'] ?? '').replace(/^AWSGlue\./, '')
      const body = JSON.parse(text || '{}')
      calls.push({ op, body })
      const handler = ops[op]
      const r = handler ? handler(body) : fail('UnknownOperationException', op)
      res.writeHead(r.status ?? 200, { 'content-type': 'application/x-amz-json-1.1' })
      res.end(JSON.stringify(r.body))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    tables,
    partitions: (db: string, table: string) => [...(partitions.get(`${db}.${table}`)?.values() ?? [])],
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}
