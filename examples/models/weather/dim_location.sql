{{ config(materialized='table', unique_key='location', tags=['weather']) }}
-- The places observed, as the weather API names them.
select
  location_name as location,
  any_value(location_lat) as lat,
  any_value(location_lon) as lon
from {{ source('weather', 'realtime') }}
group by location_name
