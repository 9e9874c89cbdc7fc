import type { Column as GlueColumn, StorageDescriptor, TableInput } from '@aws-sdk/client-glue'
import type { Column, TableEntry } from './catalog.js'
import { athenaType, projection } from './ddl.js'
import { icebergColumns } from './iceberg/data-files.js'
import { parse } from './types.js'

const PARQUET: StorageDescriptor = {
  InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
}

/** What every table Weir registers carries: its name, a description, and its schema version and key. */
function described(t: TableEntry) {
  const latest = t.versions?.at(-1)?.version
  return {
    Name: t.name,
    TableType: 'EXTERNAL_TABLE',
    ...(t.resource ? { Description: `${t.source}.${t.resource}, refined by Weir` } : {}),
    weir: {
      ...(latest ? { 'weir.schema_version': String(latest) } : {}),
      ...(t.primaryKey?.length ? { 'weir.primary_key': t.primaryKey.join(',') } : {}),
    },
  }
}

const glueColumns = (columns: readonly Column[]): GlueColumn[] =>
  columns.map((c) => ({ Name: c.name, Type: athenaType(parse(c.type), false) }))

export function tableInput(t: TableEntry, location: string, project: boolean): TableInput & { Name: string } {
  const partitioned = t.partitioning.includes('dt')
  const { weir, ...base } = described(t)
  return {
    ...base,
    Parameters: {
      EXTERNAL: 'TRUE',
      classification: 'parquet',
      'parquet.compression': 'SNAPPY',
      ...weir,
      ...(partitioned && project ? projection(location) : {}),
    },
    PartitionKeys: partitioned ? [{ Name: 'dt', Type: 'string' }] : [],
    StorageDescriptor: {
      ...PARQUET,
      Columns: glueColumns(t.columns.filter((c) => !(partitioned && c.name === 'dt'))),
      Location: location,
    },
  }
}

/**
 * An Iceberg table as Glue registers one (`table_type=ICEBERG`, no Hive partitions): Athena and
 * Redshift read its current snapshot from `metadata_location`, which must follow every commit.
 */
export function icebergInput(
  t: TableEntry,
  location: string,
  metadata: string,
): TableInput & { Name: string } {
  const { weir, ...base } = described(t)
  return {
    ...base,
    Parameters: { table_type: 'ICEBERG', metadata_location: metadata, ...weir },
    StorageDescriptor: { Columns: glueColumns(icebergColumns(t)), Location: location },
  }
}
