{{ config(materialized='table') }}
-- Seed 003's DynamoDB rows: one per tweet, keyed by a hash of the line (a tweet processed twice
-- hashes the same, so it overwrites itself), with the author's profile, how many tweets the author
-- made in that period (the tweet's day), when X created it and when Weir processed it.
with tweets as (select * from {{ source('x_stream', 'tweets') }}),
users as (
  select * from {{ source('x_stream', 'users') }}
)
select
  md5(t.id) as hash_line,
  t.id as tweet_id,
  t.text,
  t.lang,
  t.created_at,
  cast(t.created_at as date) as period,
  count(*) over (partition by t.author_id, cast(t.created_at as date)) as user_tweets_in_period,
  t.author_id as user_id,
  u.username,
  u.name as user_name,
  u.public_metrics_followers_count as followers,
  current_timestamp as processed_at
from tweets t
left join users u on u.id = t.author_id
