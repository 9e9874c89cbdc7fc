// Seed 002: movies and series CSVs landed as they are (under the seed's Raw/Local/CSV/ folders),
// enriched from four TMDB methods (find by IMDB id, details, credits, reviews; at most 100 records
// per raw file), refined to Parquet, and a model joining both.
// Without TMDB_API_KEY, TMDB is Weir's simulator, in-process.
import { defineConfig } from 'weir-lake'

export default defineConfig({
  lake: '${WEIR_LAKE:-./lake}',
  sources: {
    movies: {
      kind: 'file',
      path: 'data/movies.csv',
      resource: 'titles',
      csv: { delimiter: '|', null: '\\N' },
      raw: 'as-is',
    },
    series: {
      kind: 'file',
      path: 'data/series.csv',
      resource: 'titles',
      csv: { delimiter: '|', null: '\\N' },
      raw: 'as-is',
    },
    tmdb: {
      kind: 'rest',
      // "simulator" until a real key is set; an empty TMDB_API_URL is TMDB's own API.
      baseUrl: '${TMDB_API_URL:-}',
      auth: { apiKey: '${TMDB_API_KEY:-simulator}' },
      concurrency: 4,
      endpoints: {
        find: { preset: 'tmdb.find_by_imdb', parent: { source: 'movies', fields: { imdb_id: 'id' } } },
        details: {
          preset: 'tmdb.movie_details',
          parent: { endpoint: 'find', resource: 'find_movies', fields: { movie_id: 'id' } },
        },
        credits: {
          preset: 'tmdb.movie_credits',
          parent: { endpoint: 'details', resource: 'movies', fields: { movie_id: 'id' } },
        },
        reviews: {
          preset: 'tmdb.movie_reviews',
          parent: { endpoint: 'details', resource: 'movies', fields: { movie_id: 'id' }, include: ['id'] },
        },
      },
    },
  },
  tables: {
    // The seed's raw convention for the uploaded CSVs: Raw/Local/CSV/<Dataset>/yyyy/mm/dd/<file>.
    'movies.titles': { landing: { path: 'Raw/Local/CSV/Movies/{yyyy}/{mm}/{dd}' } },
    'series.titles': { landing: { path: 'Raw/Local/CSV/Series/{yyyy}/{mm}/{dd}' } },
    'tmdb.movies': { primaryKey: 'id', landing: { maxRecords: 100 } },
    'tmdb.reviews': { primaryKey: 'id', landing: { maxRecords: 100 } },
    'tmdb.credits': { primaryKey: 'id', landing: { maxRecords: 100 } },
    'tmdb.find_movies': { landing: { maxRecords: 100 } },
  },
  landing: { maxRecords: 100 },
  models: { dir: '../models/movies', snapshots: './none', tests: './none' },
})
