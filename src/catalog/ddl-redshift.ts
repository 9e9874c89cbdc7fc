import { WeirError } from '../core/errors.js'
import type { TableEntry } from './catalog.js'
import { parse, type Type } from './types.js'

/** Redshift's limits that shape the DDL: identifiers (bytes), VARCHAR, and partitions per ALTER. */
const MAX_IDENTIFIER_BYTES = 127
const PARTITIONS_PER_ALTER = 100

export interface RedshiftOptions {
  /** The role Redshift assumes to read the Glue Data Catalog and S3: an ARN, or `default` (the cluster's). */
  readonly iamRole?: string
  /** The Glue database of each zone (Weir's `catalog sync-glue` names them `<prefix><zone>`). */
  readonly databasePrefix?: string
}

/**
 * Redshift Spectrum DDL for a Parquet table: the zone's external schema over its Glue database
 * (created if missing), the external table with Redshift's types, and an `ALTER TABLE ... ADD IF NOT
 * EXISTS PARTITION` for each live `dt` partition, a hundred a statement (Glue's limit). Spectrum has
 * no partition projection: after new days land, run the partition statements again (or
 * `weir catalog sync-glue`, which registers them in the same Glue database).
 *
 * @example redshiftDdl(entry, 's3://bucket/lake/trusted/x/tweets/', { iamRole: 'arn:aws:iam::123456789012:role/spectrum' })
 */
export function redshiftDdl(t: TableEntry, location: string, options: RedshiftOptions = {}): string {
  if (t.format !== 'parquet') {
    throw new WeirError(
      `catalog ddl: ${t.zone}.${t.name} is ${t.format}; Redshift Spectrum DDL is written for Parquet tables (trusted, refined)`,
      { code: 'CATALOG_DDL_FORMAT', stage: 'catalog' },
    )
  }
  const schema = ident(t.zone)
  const table = `${schema}.${ident(t.name)}`
  const partitioned = t.partitioning.includes('dt')
  const columns = t.columns
    .filter((c) => !(partitioned && c.name === 'dt'))
    .map((c) => `  ${ident(c.name)} ${redshiftType(parse(c.type), `${t.zone}.${t.name}.${c.name}`)}`)
  const role = options.iamRole && options.iamRole !== 'default' ? `'${text(options.iamRole)}'` : 'default'
  const lines = [
    `CREATE EXTERNAL SCHEMA IF NOT EXISTS ${schema}`,
    `FROM DATA CATALOG DATABASE '${text(`${options.databasePrefix ?? ''}${t.zone}`)}'`,
    `IAM_ROLE ${role}`,
    'CREATE EXTERNAL DATABASE IF NOT EXISTS;',
    '',
    `CREATE EXTERNAL TABLE ${table} (`,
    columns.join(',\n'),
    ')',
    ...(partitioned ? ['PARTITIONED BY (dt varchar(10))'] : []),
    'STORED AS PARQUET',
    `LOCATION '${text(location)}';`,
  ]
  const days = partitioned ? liveDays(t) : []
  for (let i = 0; i < days.length; i += PARTITIONS_PER_ALTER) {
    const adds = days
      .slice(i, i + PARTITIONS_PER_ALTER)
      .map((d) => `  PARTITION (dt='${d}') LOCATION '${text(`${location}dt=${d}/`)}'`)
    lines.push('', `ALTER TABLE ${table} ADD IF NOT EXISTS`, `${adds.join('\n')};`)
  }
  return `${lines.join('\n')}\n`
}

/** The `dt` values of the table's live files, in order. */
function liveDays(t: TableEntry): string[] {
  const days = new Set<string>()
  for (const key of t.files ?? []) {
    const d = /(?:^|\/)dt=(\d{4}-\d{2}-\d{2})\//.exec(key)?.[1]
    if (d) days.add(d)
  }
  return [...days].sort()
}

/**
 * The Redshift Spectrum type of a DuckDB type. Spectrum has no unsigned or 128-bit integers (they
 * become DECIMAL), no zoned timestamp (Parquet's UTC instants read as TIMESTAMP), text is
 * VARCHAR(MAX) (65,535 bytes; longer values read as null), and an array may not hold an array or a map.
 */
export function redshiftType(t: Type, where = 'column'): string {
  switch (t.kind) {
    case 'list':
      if (t.of.kind === 'list' || t.of.kind === 'map') throw nested(where)
      return `array<${redshiftType(t.of, where)}>`
    case 'map':
      return `map<${redshiftType(t.key, where)},${redshiftType(t.value, where)}>`
    case 'struct':
      return `struct<${t.fields.map(([n, f]) => `${fieldName(n, where)}:${redshiftType(f, where)}`).join(',')}>`
    case 'scalar':
      return scalarType(t, where)
  }
}

const SCALARS: Readonly<Record<string, string>> = {
  BOOLEAN: 'boolean',
  TINYINT: 'smallint',
  UTINYINT: 'smallint',
  SMALLINT: 'smallint',
  USMALLINT: 'integer',
  INTEGER: 'integer',
  UINTEGER: 'bigint',
  BIGINT: 'bigint',
  UBIGINT: 'decimal(20,0)',
  HUGEINT: 'decimal(38,0)',
  FLOAT: 'real',
  DOUBLE: 'double precision',
  VARCHAR: 'varchar(max)',
  JSON: 'varchar(max)',
  DATE: 'date',
  TIMESTAMP: 'timestamp',
  'TIMESTAMP WITH TIME ZONE': 'timestamp',
  BLOB: 'varbyte(max)',
}

function scalarType(t: Extract<Type, { kind: 'scalar' }>, where: string): string {
  if (t.name === 'DECIMAL') {
    const [p = '18', s = '3'] = t.args
    return `decimal(${Math.min(Number(p), 38)},${s})`
  }
  const name = SCALARS[t.name]
  if (name) return name
  throw new WeirError(
    `catalog ddl: ${where} is ${t.name}, which Redshift Spectrum cannot read from Parquet; cast it in a model (to VARCHAR or BIGINT) and query the model`,
    { code: 'CATALOG_DDL_TYPE', stage: 'catalog' },
  )
}

function nested(where: string): WeirError {
  return new WeirError(
    `catalog ddl: ${where} is a list of lists or of maps, which Redshift Spectrum cannot read; flatten it in a model`,
    { code: 'CATALOG_DDL_TYPE', stage: 'catalog' },
  )
}

/** Struct field names inside a nested type cannot be quoted: they must be plain identifiers. */
function fieldName(name: string, where: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return name.toLowerCase()
  throw new WeirError(
    `catalog ddl: ${where} has a struct field "${name}", which Redshift Spectrum cannot name; rename it in a model`,
    { code: 'CATALOG_DDL_TYPE', stage: 'catalog' },
  )
}

/** A Redshift identifier: lower case (Redshift folds names), quoted when it must be, at most 127 bytes. */
function ident(name: string): string {
  if (Buffer.byteLength(name) > MAX_IDENTIFIER_BYTES) {
    throw new WeirError(`catalog ddl: "${name}" is longer than Redshift's 127 bytes for a name`, {
      code: 'CATALOG_DDL_TYPE',
      stage: 'catalog',
    })
  }
  const lower = name.toLowerCase()
  return /^[a-z_][a-z0-9_]*$/.test(lower) && !RESERVED.has(lower) ? lower : `"${lower.replaceAll('"', '""')}"`
}

// Redshift's reserved words (its documentation's list): as names they must be quoted.
const RESERVED = new Set(
  'aes128 aes256 all allowoverwrite analyse analyze and any array as asc authorization az64 backup between binary blanksasnull both bytedict bzip2 case cast check collate column connect constraint create credentials cross current_date current_time current_timestamp current_user current_user_id default deferrable deflate defrag delta delta32k desc disable distinct do else emptyasnull enable encode encrypt encryption end except explicit false for foreign freeze from full globaldict256 globaldict64k grant group gzip having identity ignore ilike in initially inner intersect interval into is isnull join language leading left like limit localtime localtimestamp lun luns lzo lzop minus mostly16 mostly32 mostly8 natural new not notnull null nulls off offline offset oid old on only open or order outer overlaps parallel partition percent permissions pivot placing primary raw readratio recover references rejectlog resort respect restore right select session_user similar snapshot some sysdate system start table tag tdes text255 text32k then timestamp to top trailing true truncatecolumns union unique unnest unpivot user using verbose wallet when where with without'.split(
    ' ',
  ),
)

const text = (s: string) => s.replace(/'/g, "''")
