import { intParam, ok, type Route, type SimResponse } from './routes.js'

const PER_PAGE = 20

function tmdbError(status: number, code: number, message: string): SimResponse {
  return { status, body: { status_code: code, status_message: message, success: false } }
}

export const tmdbRoutes: readonly Route[] = [
  {
    api: 'tmdb',
    pattern: /^\/3\/find\/([^/]+)$/,
    auth: 'tmdb',
    handle(req, world) {
      if (req.params.get('external_source') !== 'imdb_id') {
        return tmdbError(400, 22, 'Invalid parameters: external_source must be imdb_id here.')
      }
      const id = world.tmdbIdForImdb(decodeURIComponent(req.match[1]!))
      const movie = id === undefined ? undefined : world.movie(id)
      return ok({
        movie_results: movie
          ? [
              {
                adult: false,
                id: movie.id,
                title: movie.title,
                original_title: movie.original_title,
                original_language: movie.original_language,
                overview: movie.overview,
                media_type: 'movie',
                genre_ids: movie.genres.map((g) => g.id),
                popularity: movie.popularity,
                release_date: movie.release_date,
                video: false,
                vote_average: movie.vote_average,
                vote_count: movie.vote_count,
              },
            ]
          : [],
        person_results: [],
        tv_results: [],
        tv_episode_results: [],
        tv_season_results: [],
      })
    },
  },
  {
    api: 'tmdb',
    pattern: /^\/3\/movie\/(\d+)$/,
    auth: 'tmdb',
    handle(req, world) {
      return ok(world.movie(Number(req.match[1])))
    },
  },
  {
    api: 'tmdb',
    pattern: /^\/3\/movie\/(\d+)\/credits$/,
    auth: 'tmdb',
    handle(req) {
      const id = Number(req.match[1])
      const n = 3 + (id % 5)
      return ok({
        id,
        cast: Array.from({ length: n }, (_, k) => ({
          id: id * 10 + k,
          name: `Actor ${id}-${k}`,
          character: `Character ${k}`,
          order: k,
          known_for_department: 'Acting',
        })),
        crew: [{ id: id * 10 + 9, name: `Director ${id}`, job: 'Director', department: 'Directing' }],
      })
    },
  },
  {
    api: 'tmdb',
    pattern: /^\/3\/movie\/(\d+)\/reviews$/,
    auth: 'tmdb',
    handle(req, world) {
      const id = Number(req.match[1])
      const page = intParam(req.params, 'page', 1, 1, 500)
      if (typeof page === 'string') return tmdbError(400, 22, `Invalid page: ${page}`)
      const total = world.reviewCount(id)
      const totalPages = Math.max(1, Math.ceil(total / PER_PAGE))
      const from = (page - 1) * PER_PAGE
      const results = Array.from({ length: Math.max(0, Math.min(PER_PAGE, total - from)) }, (_, k) => ({
        id: `${id}r${from + k}`,
        author: `critic_${(id + from + k) % 97}`,
        content: `Review ${from + k} of movie ${id}.`,
        created_at: new Date(Date.UTC(2020, 0, 1) + (from + k) * 86_400_000).toISOString(),
      }))
      return ok({ id, page, results, total_pages: totalPages, total_results: total })
    },
  },
]
