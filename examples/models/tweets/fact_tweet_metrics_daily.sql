{{ config(materialized='incremental', incremental_strategy='insert_overwrite', partition_by='dt', tags=['tweets']) }}
-- Per day and author: tweets and engagement. A day with new tweets is computed again whole.
select
  dt,
  author_id as user_id,
  count(*) as tweets,
  sum(public_metrics_like_count) as likes,
  sum(public_metrics_retweet_count) as retweets,
  sum(public_metrics_reply_count) as replies
from {{ source('x', 'tweets') }}
group by all
