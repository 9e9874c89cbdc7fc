import { WeirError } from '../core/errors.js'
import type { TableEntry } from './catalog.js'
import { icebergDdl } from './ddl-iceberg.js'
import { type RedshiftOptions, redshiftDdl } from './ddl-redshift.js'
import { parse, type Type } from './types.js'
import { readerSql } from './views.js'

export { parse }

export const DIALECTS = ['duckdb', 'athena', 'trino', 'redshift', 'spark'] as const
export type Dialect = (typeof DIALECTS)[number]

/**
 * The DDL that makes a catalog table queryable by another engine, over the same files:
 * a DuckDB view, an Athena (Hive) external table with partition projection on `dt`, a Trino
 * Hive-connector table, or a Redshift Spectrum external table with its schema and live partitions.
 *
 * @param root where the lake's files are for that engine, e.g. `s3://bucket/lake` (no trailing slash)
 * @example tableDdl(entry, 'athena', 's3://my-bucket/lake')
 */
export function tableDdl(
  t: TableEntry,
  dialect: Dialect,
  root: string,
  options: RedshiftOptions = {},
): string {
  const location = `${root.replace(/\/+$/, '')}/${t.location}`
  const partitions: string[] = t.partitioning.filter((p) => p === 'dt')
  const columns = t.columns.filter((c) => !partitions.includes(c.name))
  // An Iceberg table's folder also holds files older snapshots keep: engines read its snapshot.
  if (t.iceberg) return icebergDdl(t, dialect, location, root.replace(/\/+$/, ''), options.iamRole)
  if (t.format === 'view') {
    if (dialect !== 'duckdb') throw unsupported(t, dialect)
    return `CREATE SCHEMA IF NOT EXISTS ${t.zone};\nCREATE OR REPLACE VIEW ${t.zone}.${quote(t.name, '"')} AS ${t.sql};\n`
  }
  switch (dialect) {
    case 'redshift':
      return redshiftDdl(t, location, options)
    case 'duckdb': {
      // Files whose names start with _ are Weir's manifests, skipped as Athena and Hive skip them.
      const ext = { parquet: 'parquet', ndjson: '*json*', json: 'json', csv: 'csv', view: '' }[t.format]
      const reader = readerSql(t, `'${sqlText(location)}**/[!_]*.${ext}'`)
      return `CREATE SCHEMA IF NOT EXISTS ${t.zone};\nCREATE OR REPLACE VIEW ${t.zone}.${quote(t.name, '"')} AS SELECT * FROM ${reader};\n`
    }
    case 'athena': {
      const cols = columns.map((c) => `  \`${c.name}\` ${athenaType(parse(c.type))}`).join(',\n')
      const lines = [`CREATE EXTERNAL TABLE IF NOT EXISTS \`${t.zone}\`.\`${t.name}\` (`, cols, ')']
      if (partitions.length)
        lines.push(`PARTITIONED BY (${partitions.map((p) => `\`${p}\` string`).join(', ')})`)
      if (t.format === 'parquet') lines.push('STORED AS PARQUET')
      else if (t.format === 'ndjson' || t.format === 'json')
        lines.push("ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'")
      else throw unsupported(t, dialect)
      lines.push(`LOCATION '${sqlText(location)}'`)
      const props: [string, string][] = []
      if (t.format === 'parquet') props.push(['parquet.compression', 'SNAPPY'])
      if (partitions.includes('dt')) {
        // Partition projection: Athena computes the dt values instead of asking Glue for partitions,
        // so new days are queryable without MSCK REPAIR or crawlers.
        props.push(...Object.entries(projection(sqlText(location))))
      }
      lines.push(`TBLPROPERTIES (\n${props.map(([k, v]) => `  '${k}'='${v}'`).join(',\n')}\n)`)
      return `${lines.join('\n')};\n`
    }
    case 'spark': {
      if (t.format !== 'parquet') throw unsupported(t, dialect)
      // Spark reads the schema from the footers and the dt partitions from the folders.
      const lines = [`CREATE TABLE IF NOT EXISTS ${t.zone}.${t.name}`, 'USING PARQUET']
      if (partitions.length) lines.push(`PARTITIONED BY (${partitions.join(', ')})`)
      lines.push(`LOCATION '${sqlText(location)}';`)
      if (partitions.length) lines.push(`MSCK REPAIR TABLE ${t.zone}.${t.name};`)
      return `${lines.join('\n')}\n`
    }
    case 'trino': {
      if (t.format !== 'parquet') throw unsupported(t, dialect)
      // The Hive connector wants partition columns last.
      const cols = [
        ...columns.map((c) => `  "${c.name.replaceAll('"', '""')}" ${trinoType(parse(c.type))}`),
        ...partitions.map((p) => `  "${p}" varchar`),
      ].join(',\n')
      const props = [
        "  format = 'PARQUET'",
        `  external_location = '${sqlText(location)}'`,
        ...(partitions.length
          ? [`  partitioned_by = ARRAY[${partitions.map((p) => `'${p}'`).join(', ')}]`]
          : []),
      ]
      return `CREATE TABLE IF NOT EXISTS hive.${t.zone}.${quote(t.name, '"')} (\n${cols}\n)\nWITH (\n${props.join(',\n')}\n);\n`
    }
  }
}

/** Athena's partition projection of `dt` over a table's location: new days need no registration. */
export function projection(location: string): Record<string, string> {
  return {
    'projection.enabled': 'true',
    'projection.dt.type': 'date',
    'projection.dt.format': 'yyyy-MM-dd',
    'projection.dt.range': '2000-01-01,NOW',
    'projection.dt.interval': '1',
    'projection.dt.interval.unit': 'DAYS',
    'storage.location.template': `${location}dt=\${dt}/`,
  }
}

function unsupported(t: TableEntry, dialect: Dialect): WeirError {
  return new WeirError(
    `catalog ddl: ${t.zone}.${t.name} is ${t.format}; ${dialect} DDL is written for Parquet tables (trusted, refined)${dialect === 'trino' ? ' and, for Athena, NDJSON' : ''}`,
    { code: 'CATALOG_DDL_FORMAT', stage: 'catalog' },
  )
}

const sqlText = (s: string) => s.replace(/'/g, "''")

/** Quotes an identifier only when it needs it. */
function quote(name: string, q: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `${q}${name.replaceAll(q, q + q)}${q}`
}

/**
 * The Hive type Athena and Glue use. In DDL, struct fields are backquoted (they may be Hive keywords
 * such as `end`, or hold spaces); in Glue's API, types are stored bare, as Glue's crawlers write them.
 */
export function athenaType(t: Type, quoteFields = true): string {
  const field = (n: string) => (quoteFields ? `\`${n.replaceAll('`', '``')}\`` : n)
  switch (t.kind) {
    case 'list':
      return `array<${athenaType(t.of, quoteFields)}>`
    case 'map':
      return `map<${athenaType(t.key, quoteFields)},${athenaType(t.value, quoteFields)}>`
    case 'struct':
      return `struct<${t.fields.map(([n, f]) => `${field(n)}:${athenaType(f, quoteFields)}`).join(',')}>`
    case 'scalar':
      return scalar(t, {
        VARCHAR: 'string',
        BIGINT: 'bigint',
        INTEGER: 'int',
        SMALLINT: 'smallint',
        TINYINT: 'tinyint',
        DOUBLE: 'double',
        FLOAT: 'float',
        BOOLEAN: 'boolean',
        DATE: 'date',
        TIMESTAMP: 'timestamp',
        'TIMESTAMP WITH TIME ZONE': 'timestamp',
        BLOB: 'binary',
      })
  }
}

function trinoType(t: Type): string {
  switch (t.kind) {
    case 'list':
      return `array(${trinoType(t.of)})`
    case 'map':
      return `map(${trinoType(t.key)}, ${trinoType(t.value)})`
    case 'struct':
      // Quoted: field names may be reserved words in Trino (`end`).
      return `row(${t.fields.map(([n, f]) => `"${n.replaceAll('"', '""')}" ${trinoType(f)}`).join(', ')})`
    case 'scalar':
      return scalar(t, {
        VARCHAR: 'varchar',
        BIGINT: 'bigint',
        INTEGER: 'integer',
        SMALLINT: 'smallint',
        TINYINT: 'tinyint',
        DOUBLE: 'double',
        FLOAT: 'real',
        BOOLEAN: 'boolean',
        DATE: 'date',
        TIMESTAMP: 'timestamp(6)',
        // The Hive connector has no zoned timestamps; Parquet's UTC-adjusted ones read as timestamp(6).
        'TIMESTAMP WITH TIME ZONE': 'timestamp(6)',
        BLOB: 'varbinary',
      })
  }
}

function scalar(t: Extract<Type, { kind: 'scalar' }>, names: Readonly<Record<string, string>>): string {
  if (t.name === 'DECIMAL') return `decimal(${t.args.join(',')})`
  // Unsigned 64-bit integers do not fit a signed bigint; JSON, UUID and the rest are text elsewhere.
  if (t.name === 'UBIGINT' || t.name === 'HUGEINT') return 'decimal(38,0)'
  if (t.name === 'UINTEGER') return names.BIGINT!
  return names[t.name] ?? names.VARCHAR!
}
