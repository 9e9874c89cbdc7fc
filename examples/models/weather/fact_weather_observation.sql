{{ config(materialized='incremental', unique_key=['location', 'observed_at'], partition_by='dt', tags=['weather']) }}
-- One row per place and observation time.
select
  location_name as location,
  data_time as observed_at,
  dt,
  data_values_temperature as temperature_c,
  data_values_temperatureApparent as feels_like_c,
  data_values_humidity as humidity_pct,
  data_values_windSpeed as wind_speed_ms,
  data_values_precipitationProbability as precipitation_pct,
  data_values_weatherCode as weather_code
from {{ source('weather', 'realtime') }}
