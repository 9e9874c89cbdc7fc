import type { DuckDBConnection, DuckDBValueConverter } from '@duckdb/node-api'
import { errorMessage, WeirError } from '../core/errors.js'
import { openDuckDb } from './duckdb.js'

/** A JSON-safe value: what `weir query --format json` prints and the HTTP API returns. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue }

export interface QueryResult {
  readonly columns: readonly { readonly name: string; readonly type: string }[]
  readonly rows: readonly Record<string, JsonValue>[]
}

export interface EngineOptions {
  /** DuckDB worker threads; defaults to DuckDB's choice (all cores). */
  readonly threads?: number
  /** e.g. '2GB'; DuckDB spills to disk beyond it, which keeps big refines within bounded memory. */
  readonly memoryLimit?: string
  /** Where DuckDB spills; defaults to DuckDB's own temp directory. */
  readonly tempDirectory?: string
}

/**
 * The one SQL engine every stage uses: an in-process DuckDB. Results come back as JSON-safe rows
 * (BIGINT as a number when it fits in 2^53, as a string beyond, so ids are never rounded).
 *
 * @example
 * const engine = await createEngine()
 * const { rows } = await engine.query('select 42 as answer')
 */
export interface Engine {
  /** Runs statements that return nothing useful (DDL, COPY). */
  run(sql: string): Promise<void>
  query(sql: string): Promise<QueryResult>
  /** Runs a query and yields its rows chunk by chunk (about 2,048 rows each), so a large result never sits in memory whole. */
  stream(sql: string): Promise<QueryStream>
  /** Another connection to the same database, for statements that run at the same time. */
  fork(): Promise<Engine>
  close(): Promise<void>
  /** @internal closes this connection only (a fork's, when its engine closes). */
  closeConnection?(): Promise<void>
}

export interface QueryStream {
  readonly columns: QueryResult['columns']
  readonly chunks: AsyncIterable<readonly Record<string, JsonValue>[]>
}

export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const settings: Record<string, string> = {}
  if (options.threads) settings.threads = String(options.threads)
  if (options.memoryLimit) {
    settings.memory_limit = options.memoryLimit
    // DuckDB's allocator (its own jemalloc) keeps freed pages for seconds, and its reads of JSON
    // and writes of Parquet run partly outside the limit: with a limit, freed memory goes back at
    // once (1 GB refined under 300MB: peak RSS 930 → 416 MB, about 30% slower). Read when the
    // native module first allocates, so it holds if this is the process's first DuckDB.
    process.env.DUCKDB_JE_MALLOC_CONF ??= 'dirty_decay_ms:0,muzzy_decay_ms:0'
  }
  if (options.tempDirectory) settings.temp_directory = options.tempDirectory
  const { instance, toJson } = await openDuckDb(':memory:', settings)
  const connect = async (): Promise<Engine> => {
    const conn: DuckDBConnection = await instance.connect()
    // Event dates must not depend on the machine's zone: TIMESTAMPTZ → date conversions happen in UTC.
    await conn.run("SET TimeZone = 'UTC'")
    return wrap(conn, toJson, connect, () => instance.closeSync())
  }
  return connect()
}

function wrap(
  conn: DuckDBConnection,
  toJson: DuckDBValueConverter<JsonValue>,
  connect: () => Promise<Engine>,
  closeInstance: () => void,
): Engine {
  const forks: Engine[] = []
  return {
    async run(sql) {
      try {
        await conn.run(sql)
      } catch (err) {
        throw queryError(sql, err)
      }
    },
    async query(sql) {
      try {
        const reader = await conn.runAndReadAll(sql)
        const rows = reader.convertRowObjects(toJson) as Record<string, JsonValue>[]
        return { columns: columnsOf(reader), rows }
      } catch (err) {
        throw queryError(sql, err)
      }
    },
    async stream(sql) {
      try {
        const result = await conn.stream(sql)
        const chunks = (async function* () {
          try {
            for await (const rows of result.yieldConvertedRowObjects(toJson))
              yield rows as Record<string, JsonValue>[]
          } catch (err) {
            throw queryError(sql, err)
          }
        })()
        return { columns: columnsOf(result), chunks }
      } catch (err) {
        throw queryError(sql, err)
      }
    },
    async fork() {
      // Forks share the database (views, tables) but not temp tables or a running statement.
      const f = await connect()
      forks.push(f)
      return { ...f, close: async () => undefined }
    },
    async close() {
      for (const f of forks) await f.closeConnection?.()
      conn.closeSync()
      closeInstance()
    },
    async closeConnection() {
      conn.closeSync()
    },
  }
}

/** Column names and DuckDB type names of a result. */
function columnsOf(r: {
  columnNames(): string[]
  columnTypes(): { toString(): string }[]
}): QueryResult['columns'] {
  const types = r.columnTypes()
  return r.columnNames().map((name, i) => ({ name, type: types[i]?.toString() ?? 'UNKNOWN' }))
}

function queryError(sql: string, err: unknown): WeirError {
  const full = errorMessage(err)
  const first = full.split('\n')[0] ?? ''
  // DuckDB's hint ("Did you mean", "Candidate bindings") and its caret under the statement, as
  // "line 2, column 3": one line a user can act on.
  const hint = full.split('\n').find((l) => /^(Did you mean|Candidate bindings)/.test(l))
  const at = /LINE (\d+): .*\n( *)\^/.exec(full)
  const pos = at ? ` at line ${at[1]}, column ${at[2]!.length - `LINE ${at[1]}: `.length + 1}` : ''
  const snippet = sql.replace(/\s+/g, ' ').trim()
  // DuckDB's own advice names its settings; say which of Weir's config sets them.
  const oom = /^Out of Memory Error/.test(first)
    ? '; raise engine.memoryLimit, or lower engine.threads or engine.refineBatch'
    : ''
  return new WeirError(
    `SQL failed${pos}: ${first}${hint ? ` ${hint}` : ''}${oom} (in: ${snippet.length > 120 ? `${snippet.slice(0, 117)}...` : snippet})`,
    {
      code: 'SQL_FAILED',
      stage: 'engine',
      // A full disk, a file another process holds, memory: the same statement may pass later.
      retryable: /^(IO|Out of Memory|Interrupt) Error/.test(first),
      cause: err,
    },
  )
}

/** A SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`
}

/** A quoted SQL identifier. */
export function sqlIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`
}

/** A SQL list of string literals: `['a', 'b']`. */
export function sqlList(items: readonly string[]): string {
  return `[${items.map(sqlString).join(', ')}]`
}

/** The columns of a relation (a table, a view, or a parenthesized query), as DuckDB types them. */
export async function describeColumns(
  engine: Engine,
  from: string,
): Promise<{ name: string; type: string }[]> {
  const { rows } = await engine.query(`DESCRIBE SELECT * FROM ${from}`)
  return rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }))
}
