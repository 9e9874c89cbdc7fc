import type { DuckDBConnection } from '@duckdb/node-api'
import { errorMessage, WeirError } from '../core/errors.js'
import { openDuckDb } from './duckdb.js'
import type { JsonValue, QueryResult } from './engine.js'

/**
 * The first word a workbench statement may have. An allow-list, checked before DuckDB prepares the
 * statement, because preparing is not harmless: preparing `EXPORT DATABASE` creates its folder.
 */
const READS = new Set([
  'SELECT',
  'WITH',
  'FROM',
  'VALUES',
  'TABLE',
  'DESCRIBE',
  'DESC',
  'SHOW',
  'SUMMARIZE',
  'EXPLAIN',
  'PIVOT',
  'UNPIVOT',
])

export interface SandboxOptions {
  /** Directories queries may read (the lake, its remote-file cache): nothing else. */
  readonly allowedDirectories: readonly string[]
  /** Statements run before the lock: the lake's views. */
  readonly setup: readonly string[]
  readonly maxRows?: number
  readonly timeoutMs?: number
  /** Queries that run at once, each on its own connection (default 4); more wait their turn. */
  readonly connections?: number
}

export interface Sandbox {
  /**
   * One read-only statement (SELECT, WITH, DESCRIBE, SUMMARIZE, EXPLAIN, ...); anything else is
   * refused. An aborted signal (the client went away) stops the query.
   */
  query(sql: string, signal?: AbortSignal): Promise<QueryResult & { readonly truncated: boolean }>
  close(): Promise<void>
}

const refuse = (message: string) => new WeirError(message, { code: 'SANDBOX_REFUSED', stage: 'query' })

/** The statement's first keyword, past comments, semicolons and opening parentheses. */
export function firstWord(sql: string): string | undefined {
  const rest = sql.replace(/^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/|;|\()*/, '')
  return /^[A-Za-z]+/.exec(rest)?.[0]?.toUpperCase()
}

/**
 * A DuckDB of its own for queries typed by people (the dashboard's workbench): the lake's views,
 * then external access limited to the lake's folders, and the configuration locked so a query cannot
 * lift the limits. Its home is the lake's folder, so nothing it answers names a path outside the
 * lake. Each query runs on its own connection from a small pool, so a long one does not hold up the
 * rest; results are capped in rows and in time.
 */
export async function createSandbox(options: SandboxOptions): Promise<Sandbox> {
  const home = options.allowedDirectories[0] ?? '.'
  const { duckdb, instance, toJson } = await openDuckDb(':memory:', {
    home_directory: home,
    // Spills go under the home too (created only when a query spills), not the working directory.
    temp_directory: `${home.replace(/\/+$/, '')}/.duckdb/tmp`,
  })
  const first = await instance.connect()
  await first.run("SET GLOBAL TimeZone = 'UTC'")
  for (const sql of options.setup) await first.run(sql)
  const list = options.allowedDirectories.map((d) => `'${d.replaceAll("'", "''")}'`).join(', ')
  await first.run(`SET allowed_directories = [${list}]`)
  await first.run('SET enable_external_access = false')
  await first.run('SET lock_configuration = true')
  const maxRows = options.maxRows ?? 10_000
  const timeoutMs = options.timeoutMs ?? 30_000
  const max = Math.max(1, options.connections ?? 4)
  const { StatementType } = duckdb
  const allowed = new Set<number>([StatementType.SELECT, StatementType.EXPLAIN])

  const idle: DuckDBConnection[] = [first]
  const waiting: ((c: DuckDBConnection) => void)[] = []
  const running = new Set<Promise<unknown>>()
  let opened = 1
  const acquire = async (): Promise<DuckDBConnection> => {
    const free = idle.pop()
    if (free) return free
    if (opened < max) {
      opened++
      return instance.connect()
    }
    return new Promise((give) => waiting.push(give))
  }
  const release = (c: DuckDBConnection) => {
    const next = waiting.shift()
    if (next) next(c)
    else idle.push(c)
  }

  const run = async (sql: string, signal?: AbortSignal) => {
    const word = firstWord(sql)
    if (!word || !READS.has(word))
      throw refuse(
        `the workbench only reads: ${word ?? 'this statement'} is not allowed (use SELECT, WITH, DESCRIBE or SUMMARIZE)`,
      )
    const conn = await acquire()
    const stop = () => conn.interrupt()
    const timer = setTimeout(stop, timeoutMs)
    signal?.addEventListener('abort', stop)
    try {
      if (signal?.aborted) throw refuse('the client went away')
      const extracted = await conn.extractStatements(sql)
      if (extracted.count !== 1) throw refuse(`one statement at a time (this has ${extracted.count})`)
      const prepared = await extracted.prepare(0)
      if (!allowed.has(prepared.statementType)) {
        const kind = StatementType[prepared.statementType] ?? 'this statement'
        throw refuse(
          `the workbench only reads: ${kind} is not allowed (use SELECT, WITH, DESCRIBE or SUMMARIZE)`,
        )
      }
      const reader = await conn.streamAndReadUntil(sql, maxRows + 1)
      const rows = reader.convertRowObjects(toJson) as Record<string, JsonValue>[]
      const types = reader.columnTypes()
      return {
        columns: reader.columnNames().map((name, i) => ({ name, type: types[i]?.toString() ?? 'UNKNOWN' })),
        rows: rows.slice(0, maxRows),
        truncated: rows.length > maxRows,
      }
    } catch (err) {
      if (err instanceof WeirError) throw err
      const line = errorMessage(err).split('\n')[0] ?? ''
      const message = !/INTERRUPT/i.test(line)
        ? line
        : signal?.aborted
          ? 'the client went away; the query was stopped'
          : `the query ran longer than ${timeoutMs / 1000} s and was stopped`
      throw new WeirError(message, { code: 'SANDBOX_QUERY', stage: 'query', cause: err })
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', stop)
      release(conn)
    }
  }

  return {
    query(sql, signal) {
      const p = run(sql, signal)
      const settled = p.catch(() => undefined)
      running.add(settled)
      void settled.then(() => running.delete(settled))
      return p
    },
    async close() {
      while (running.size) await Promise.all(running)
      for (const c of idle.splice(0)) c.closeSync()
      instance.closeSync()
    },
  }
}
