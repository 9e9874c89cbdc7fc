{{ config(materialized='table', unique_key='user_id', tags=['tweets']) }}
-- One row per X user, with the profile as last collected.
select
  id as user_id,
  username,
  name,
  description,
  verified,
  public_metrics_followers_count as followers,
  public_metrics_following_count as following,
  public_metrics_tweet_count as tweet_count,
  created_at as user_created_at
from {{ source('x', 'users') }}
