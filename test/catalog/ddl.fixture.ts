import type { TableEntry } from '../../src/catalog/catalog.js'

/** trusted.x_tweets as refine registers it from the X API's tweets (columns as DuckDB types). */
export const tweets: TableEntry = {
  zone: 'trusted',
  name: 'x_tweets',
  source: 'x',
  resource: 'tweets',
  location: 'trusted/x/tweets/',
  format: 'parquet',
  partitioning: ['dt'],
  primaryKey: ['id'],
  columns: [
    { name: 'id', type: 'VARCHAR' },
    { name: 'author_id', type: 'VARCHAR' },
    { name: 'created_at', type: 'TIMESTAMP WITH TIME ZONE' },
    { name: 'text', type: 'VARCHAR' },
    { name: 'possibly_sensitive', type: 'BOOLEAN' },
    { name: 'public_metrics', type: 'STRUCT(like_count BIGINT, retweet_count BIGINT, "quote count" BIGINT)' },
    { name: 'entities', type: 'STRUCT(hashtags STRUCT(start BIGINT, "end" BIGINT, tag VARCHAR)[])' },
    { name: 'edit_history_tweet_ids', type: 'VARCHAR[]' },
    { name: 'geo_score', type: 'DOUBLE' },
    { name: 'price', type: 'DECIMAL(18,3)' },
    { name: 'labels', type: 'MAP(VARCHAR, BIGINT)' },
    { name: 'dt', type: 'VARCHAR' },
  ],
  updatedAt: '2026-11-22T00:00:00.000Z',
}
