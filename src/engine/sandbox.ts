import { errorMessage, WeirError } from '../core/errors.js'
import { type JsonValue, jsonConverter, type QueryResult } from './engine.js'

const WRITES = new Set([
  'COPY',
  'ATTACH',
  'DETACH',
  'INSTALL',
  'LOAD',
  'CREATE',
  'INSERT',
  'UPDATE',
  'DELETE',
  'DROP',
  'ALTER',
  'SET',
  'RESET',
  'PRAGMA',
  'CALL',
  'EXPORT',
  'IMPORT',
  'CHECKPOINT',
  'VACUUM',
  'USE',
  'TRUNCATE',
  'MERGE',
  'COMMENT',
])

export interface SandboxOptions {
  /** Directories queries may read (the lake, its remote-file cache): nothing else. */
  readonly allowedDirectories: readonly string[]
  /** Statements run before the lock: the lake's views. */
  readonly setup: readonly string[]
  readonly maxRows?: number
  readonly timeoutMs?: number
}

export interface Sandbox {
  /** One read-only statement (SELECT, WITH, DESCRIBE, SUMMARIZE, EXPLAIN, ...); anything else is refused. */
  query(sql: string): Promise<QueryResult & { readonly truncated: boolean }>
  close(): Promise<void>
}

/**
 * A DuckDB of its own for queries typed by people (the dashboard's workbench): the lake's views,
 * then external access limited to the lake's folders, and the configuration locked so a query cannot
 * lift the limits. One SELECT-like statement at a time; COPY, ATTACH, INSTALL, CREATE, SET and the
 * like are refused before they run; results are capped in rows and in time.
 */
export async function createSandbox(options: SandboxOptions): Promise<Sandbox> {
  const duckdb = await import('@duckdb/node-api')
  const instance = await duckdb.DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'true',
  })
  const conn = await instance.connect()
  await conn.run("SET TimeZone = 'UTC'")
  for (const sql of options.setup) await conn.run(sql)
  const list = options.allowedDirectories.map((d) => `'${d.replaceAll("'", "''")}'`).join(', ')
  await conn.run(`SET allowed_directories = [${list}]`)
  await conn.run('SET enable_external_access = false')
  await conn.run('SET lock_configuration = true')
  const maxRows = options.maxRows ?? 10_000
  const timeoutMs = options.timeoutMs ?? 30_000
  const { StatementType } = duckdb
  const toJson = jsonConverter(duckdb)
  const allowed = new Set<number>([StatementType.SELECT, StatementType.EXPLAIN])
  let queue: Promise<unknown> = Promise.resolve()

  const refuse = (message: string) => new WeirError(message, { code: 'SANDBOX_REFUSED', stage: 'query' })
  return {
    query(sql) {
      const run = queue.then(async () => {
        // Said plainly before DuckDB is asked: these write, load code, or change settings.
        const word = /^\s*(?:--[^\n]*\n\s*)*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase()
        if (word && WRITES.has(word))
          throw refuse(
            `the workbench only reads: ${word} is not allowed (use SELECT, WITH, DESCRIBE or SUMMARIZE)`,
          )
        const extracted = await conn.extractStatements(sql)
        if (extracted.count !== 1) throw refuse(`one statement at a time (this has ${extracted.count})`)
        const prepared = await extracted.prepare(0)
        if (!allowed.has(prepared.statementType)) {
          const kind = StatementType[prepared.statementType] ?? 'this statement'
          throw refuse(
            `the workbench only reads: ${kind} is not allowed (use SELECT, WITH, DESCRIBE or SUMMARIZE)`,
          )
        }
        const timer = setTimeout(() => conn.interrupt(), timeoutMs)
        try {
          const reader = await conn.streamAndReadUntil(sql, maxRows + 1)
          const rows = reader.convertRowObjects(toJson) as Record<string, JsonValue>[]
          const types = reader.columnTypes()
          return {
            columns: reader
              .columnNames()
              .map((name, i) => ({ name, type: types[i]?.toString() ?? 'UNKNOWN' })),
            rows: rows.slice(0, maxRows),
            truncated: rows.length > maxRows,
          }
        } catch (err) {
          const first = errorMessage(err).split('\n')[0] ?? ''
          throw new WeirError(
            /INTERRUPT/i.test(first)
              ? `the query ran longer than ${timeoutMs / 1000} s and was stopped`
              : first,
            {
              code: 'SANDBOX_QUERY',
              stage: 'query',
              cause: err,
            },
          )
        } finally {
          clearTimeout(timer)
        }
      })
      queue = run.catch(() => undefined)
      return run
    },
    async close() {
      await queue
      conn.closeSync()
      instance.closeSync()
    },
  }
}
