-- Metrics are counts: a negative one means a bad load.
select tweet_id, likes, retweets
from {{ ref('fact_tweet') }}
where likes < 0 or retweets < 0
