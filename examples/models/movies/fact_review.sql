{{ config(materialized='incremental', unique_key='review_id', tags=['movies']) }}
-- One row per TMDB review, linked to the title by its IMDB id.
select
  r.id as review_id,
  r._parent_id as tmdb_id,
  m.imdb_id,
  r.author,
  r.created_at,
  length(r.content) as content_length
from {{ source('tmdb', 'reviews') }} r
left join {{ source('tmdb', 'movies') }} m on m.id = r._parent_id
