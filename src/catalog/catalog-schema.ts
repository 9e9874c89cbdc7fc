import { z } from 'zod'

/** Where the lake's tables are registered for other engines, after every refine that changed them. */
export const catalogSchema = z
  .strictObject({
    glue: z
      .strictObject({
        location: z
          .string()
          .regex(/^s3:\/\/[^/]+/, 'an S3 URI such as s3://bucket/lake')
          .optional()
          .describe("Where Athena and Spark find the lake's files (default: the lake, when it is in S3)."),
        databasePrefix: z
          .string()
          .optional()
          .describe('Glue database per zone: <prefix>trusted and <prefix>refined (default: no prefix).'),
        projection: z
          .boolean()
          .default(false)
          .describe('Parquet tables: Athena projects dt instead of registered partitions.'),
        region: z
          .string()
          .optional()
          .describe("Glue's region (default: storage.s3.region, then AWS_REGION)."),
        endpoint: z.string().optional().describe('Another Glue endpoint (a VPC endpoint, a stand-in).'),
      })
      .optional()
      .describe(
        "Register the trusted and refined tables in the AWS Glue Data Catalog after every refine that changed them, as `weir catalog sync-glue` does: an Iceberg table's metadata_location follows each commit, a Parquet table's partitions each new day.",
      ),
  })
  .prefault({})
  .describe('Catalogs other engines read the lake through.')
