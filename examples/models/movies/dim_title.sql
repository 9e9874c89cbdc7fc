{{ config(materialized='table', unique_key='imdb_id', tags=['movies']) }}
-- One row per title: the IMDB listing (a row per credited artist in the CSV) with TMDB's details.
with titles as (
  select
    id as imdb_id,
    any_value(tituloPincipal) as title,
    any_value(tituloOriginal) as original_title,
    any_value(anoLancamento) as release_year,
    any_value(tempoMinutos) as runtime_minutes,
    any_value(genero) as genres,
    any_value(notaMedia) as imdb_rating,
    any_value(numeroVotos) as imdb_votes,
    count(*) as credited_artists
  from {{ source('movies', 'titles') }}
  group by id
)
select
  t.*,
  m.id as tmdb_id,
  m.original_language,
  m.vote_average as tmdb_rating,
  m.vote_count as tmdb_votes,
  m.popularity,
  m.budget,
  m.revenue
from titles t
left join {{ source('tmdb', 'movies') }} m on m.imdb_id = t.imdb_id
