import { configSchema } from '../src/config/schema.js'
import { sqlString } from '../src/engine/engine.js'
import { rows } from '../src/sources/file/file-rows.js'
import { seconds } from './types.js'

export interface ParsePaths {
  readonly rows: number
  /** Rows/s: csv-parse, as the file source reads a CSV today, into one object a row. */
  readonly csvParse: number
  /** Rows/s: DuckDB's read_csv streamed in chunks into one JavaScript object a row. */
  readonly duckdbObjects: number
  /** Rows/s: DuckDB's read_csv streamed as one JSON text a row (`to_json`), not parsed. */
  readonly duckdbJson: number
  /** Rows/s: the same JSON texts parsed into objects, as ingest would need them. */
  readonly duckdbJsonParsed: number
}

/**
 * What parsing alone costs on each path a CSV could take into ingest, over the first `limit` rows
 * of the file: is parsing through DuckDB (the suggestion) worth it? Crossing from DuckDB's
 * vectors into JavaScript values costs about as much as csv-parse's whole parse.
 */
export async function parsePaths(file: string, limit: number): Promise<ParsePaths> {
  const config = configSchema.parse({
    sources: { m: { kind: 'file', path: file, csv: { delimiter: '|', null: '\\N' } } },
  }).sources.m as never
  let n = 0
  const csvParse = await seconds(async () => {
    for await (const r of rows(file, 'csv', config)) if ('row' in r && ++n >= limit) break
  })
  const { DuckDBInstance } = await import('@duckdb/node-api')
  const db = await DuckDBInstance.create(':memory:')
  const con = await db.connect()
  const read = `read_csv(${sqlString(file)}, delim = '|', header = true, nullstr = '\\N', all_varchar = true)`
  type Chunk = import('@duckdb/node-api').DuckDBDataChunk
  const stream = async (sql: string, each: (chunk: Chunk, names: string[]) => void) => {
    const res = await con.stream(`${sql} LIMIT ${limit}`)
    const names = res.deduplicatedColumnNames()
    for (let c = await res.fetchChunk(); c && c.rowCount > 0; c = await res.fetchChunk()) each(c, names)
  }
  const duckdbObjects = await seconds(() =>
    stream(`SELECT * FROM ${read}`, (c, names) => void c.getRowObjects(names)),
  )
  const texts = (parse: boolean) => (c: Chunk) => {
    const col = c.getColumnVector(0)
    for (let i = 0; i < c.rowCount; i++) {
      const s = col.getItem(i) as string
      if (parse) JSON.parse(s)
    }
  }
  const json = `SELECT to_json(t)::VARCHAR FROM ${read} t`
  const duckdbJson = await seconds(() => stream(json, texts(false)))
  const duckdbJsonParsed = await seconds(() => stream(json, texts(true)))
  con.closeSync()
  db.closeSync()
  return {
    rows: n,
    csvParse: n / csvParse,
    duckdbObjects: n / duckdbObjects,
    duckdbJson: n / duckdbJson,
    duckdbJsonParsed: n / duckdbJsonParsed,
  }
}
