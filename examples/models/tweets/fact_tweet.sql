{{ config(materialized='incremental', unique_key='tweet_id', partition_by='dt', tags=['tweets']) }}
-- One row per tweet with its latest metrics; only the days with new or updated tweets are read again.
select
  id as tweet_id,
  author_id as user_id,
  dt,
  created_at,
  lang,
  length(text) as text_length,
  public_metrics_like_count as likes,
  public_metrics_retweet_count as retweets,
  public_metrics_reply_count as replies,
  public_metrics_quote_count as quotes
from {{ source('x', 'tweets') }}
