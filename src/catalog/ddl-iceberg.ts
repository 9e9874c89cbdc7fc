import { WeirError } from '../core/errors.js'
import type { TableEntry } from './catalog.js'

/**
 * How each engine reads an existing Iceberg table Weir keeps (`<location>` is the table's folder
 * as that engine sees it, `<metadata>` its current metadata file). None of them can register one
 * by a plain CREATE TABLE: DuckDB scans it (following `version-hint.text` to the newest commit),
 * Trino and Spark register the metadata file with their `register_table` procedure, and Athena and
 * Redshift read it through the Glue Data Catalog, which `weir catalog sync-glue` (or `catalog.glue`)
 * keeps pointing at the newest commit.
 */
export function icebergDdl(
  t: TableEntry,
  dialect: 'duckdb' | 'athena' | 'trino' | 'redshift' | 'spark',
  location: string,
  root: string,
  iamRole?: string,
): string {
  const name = t.name
  const text = (s: string) => s.replaceAll("'", "''")
  const metadataFile = () => {
    if (!t.icebergMetadata)
      throw new WeirError(
        `${t.zone}.${name}: its Iceberg metadata is not committed yet: run weir refine first`,
        {
          code: 'CATALOG_DDL_FORMAT',
          stage: 'catalog',
        },
      )
    return t.icebergMetadata
  }
  const viaGlue = [
    `-- ${t.zone}.${name} is an Iceberg table: ${dialect === 'athena' ? 'Athena' : 'Redshift'} reads it through the Glue Data Catalog.`,
    '-- Register it (and keep it current) with `weir catalog sync-glue`, or set catalog.glue in the config.',
  ]
  switch (dialect) {
    case 'duckdb':
      return `INSTALL iceberg;\nLOAD iceberg;\nCREATE SCHEMA IF NOT EXISTS ${t.zone};\nCREATE OR REPLACE VIEW ${t.zone}."${name.replaceAll('"', '""')}" AS SELECT * FROM iceberg_scan('${text(location)}');\n`
    case 'trino': {
      const file = metadataFile()
      return `CALL iceberg.system.register_table(schema_name => '${t.zone}', table_name => '${name}', table_location => '${text(location)}', metadata_file_name => '${text(file.slice(file.lastIndexOf('/') + 1))}');\n`
    }
    case 'spark':
      return `CALL spark_catalog.system.register_table(table => '${t.zone}.${name}', metadata_file => '${text(`${root}/${metadataFile()}`)}');\n`
    case 'athena':
      return `${viaGlue.join('\n')}\nSELECT * FROM "${t.zone}"."${name}" LIMIT 10;\n`
    case 'redshift': {
      const role = iamRole && iamRole !== 'default' ? `'${text(iamRole)}'` : 'default'
      return `${viaGlue.join('\n')}\nCREATE EXTERNAL SCHEMA IF NOT EXISTS ${t.zone}\nFROM DATA CATALOG DATABASE '${t.zone}'\nIAM_ROLE ${role};\nSELECT * FROM ${t.zone}.${name} LIMIT 10;\n`
    }
  }
}
