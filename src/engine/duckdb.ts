import type { DuckDBInstance, DuckDBValueConverter } from '@duckdb/node-api'
import type { JsonValue } from './engine.js'

/** A DuckDB database as every part of Weir opens it: the module, the instance, and the JSON converter. */
export interface DuckDb {
  readonly duckdb: typeof import('@duckdb/node-api')
  readonly instance: DuckDBInstance
  readonly toJson: DuckDBValueConverter<JsonValue>
}

/**
 * Opens a DuckDB database (`:memory:` or a file) with Weir's settings: nothing downloaded at run
 * time (json, parquet and icu are built into the bindings), known extensions loaded when used.
 * The native module is imported here, on first use: loading it costs ~100 ms that `weir --help`
 * must not pay. The lake engine, the workbench sandbox and the embedded serving store build on it.
 */
export async function openDuckDb(
  path: string,
  settings: Readonly<Record<string, string>> = {},
): Promise<DuckDb> {
  const duckdb = await import('@duckdb/node-api')
  const instance = await duckdb.DuckDBInstance.create(path, {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'true',
    ...settings,
  })
  return { duckdb, instance, toJson: jsonConverter(duckdb) }
}

/**
 * DuckDB's own JSON conversion, except that integers come back as numbers while they are exact
 * in a double (DuckDB's gives every BIGINT as a string) and small decimals likewise: `count(*)` reads
 * as 42, while a 19-digit id stays the string it must be.
 */
export function jsonConverter(duckdb: typeof import('@duckdb/node-api')): DuckDBValueConverter<JsonValue> {
  const { DuckDBTypeId, JsonDuckDBValueConverter } = duckdb
  const wide = new Set<number>([
    DuckDBTypeId.BIGINT,
    DuckDBTypeId.UBIGINT,
    DuckDBTypeId.HUGEINT,
    DuckDBTypeId.UHUGEINT,
  ])
  const convert: DuckDBValueConverter<JsonValue> = (value, type, _self) => {
    if (value === null || value === undefined) return null
    if (wide.has(type.typeId) && typeof value === 'bigint') {
      return value <= MAX_SAFE && value >= -MAX_SAFE ? Number(value) : value.toString()
    }
    if (type.typeId === DuckDBTypeId.DECIMAL && 'width' in type && (type.width as number) <= 15)
      return Number(String(value))
    return JsonDuckDBValueConverter(value, type, convert) as JsonValue
  }
  return convert
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
