{{ config(materialized='table', unique_key='date_key', tags=['tweets']) }}
-- The days tweets were posted on.
select distinct
  dt as date_key,
  year(dt) as year,
  month(dt) as month,
  day(dt) as day,
  dayname(dt) as weekday,
  isodow(dt) >= 6 as is_weekend
from {{ source('x', 'tweets') }}
