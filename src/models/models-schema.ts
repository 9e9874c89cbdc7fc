import { z } from 'zod'

/** The models section: folders of SQL models, snapshots and tests. */
export const modelsSchema = z
  .strictObject({
    dir: z
      .string()
      .default('models')
      .describe('Folder of SQL models (models/**/*.sql) and their YAML docs and tests.'),
    snapshots: z.string().default('snapshots').describe('Folder of snapshots (type-2 history) as SQL files.'),
    tests: z
      .string()
      .default('tests')
      .describe('Folder of custom data tests: SQL files selecting failing rows.'),
    macros: z
      .string()
      .default('macros')
      .describe(
        'Folder of Jinja macros ({% macro %} in macros/**/*.sql), callable from every model and test.',
      ),
    vars: z
      .record(z.string(), z.unknown().describe('A value: text, number, boolean, list or mapping.'))
      .default({})
      .describe(
        "Values of var('name') in models, as dbt's vars; `weir model --vars '{\"name\": 1}'` overrides them.",
      ),
    concurrency: z.number().int().positive().default(4).describe('Independent models built at once.'),
    config: z
      .record(
        z.string(),
        z.record(
          z.string(),
          z
            .union([z.string(), z.number(), z.boolean(), z.array(z.string())])
            .describe('A config() value: text, number, boolean or a list of text.'),
        ),
      )
      .default({})
      .describe(
        "Per model, what its {{ config(...) }} may set (materialized, unique_key, partition_by, incremental_strategy, format: iceberg (default) or parquet, tags, ...); the file's own config() wins. Example: { fact_tweet: { materialized: 'incremental', unique_key: 'tweet_id' } }.",
      ),
  })
  .prefault({})
  .describe('SQL models, relative to the config file: `weir model` builds them into the refined zone.')
