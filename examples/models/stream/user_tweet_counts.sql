{{ config(materialized='table') }}
-- Per user, how many tweets the stream brought in the last 24 hours: served by user id, so an app
-- asks "how active is this account now" in one lookup.
select
  author_id as user_id,
  count(*) as tweets_24h,
  min(created_at) as first_at,
  max(created_at) as last_at
from {{ source('x_stream', 'tweets') }}
where created_at > now() - interval 24 hours
group by author_id
