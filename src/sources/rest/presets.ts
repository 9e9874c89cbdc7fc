import type { EndpointConfig } from './rest-schema.js'

/** What every endpoint of an API shares: where it is, where its API key goes, and its documented limit. */
export interface Service {
  readonly baseUrl: string
  readonly apiKey?: { readonly name: string; readonly in: 'query' | 'header' }
  readonly budget?: { readonly requests: number; readonly per: string }
}

export const SERVICES: Readonly<Record<string, Service>> = {
  // App-only limit of recent search: 450 requests per 15 minutes.
  x: { baseUrl: 'https://api.twitter.com', budget: { requests: 450, per: '15m' } },
  // Free plan: 25 requests per hour.
  tomorrow: {
    baseUrl: 'https://api.tomorrow.io',
    apiKey: { name: 'apikey', in: 'query' },
    budget: { requests: 25, per: '1h' },
  },
  openmeteo: { baseUrl: 'https://api.open-meteo.com', budget: { requests: 600, per: '1m' } },
  // TMDB allows about 50 requests per second.
  tmdb: {
    baseUrl: 'https://api.themoviedb.org',
    apiKey: { name: 'api_key', in: 'query' },
    budget: { requests: 40, per: '1s' },
  },
}

type PresetEndpoint = Partial<EndpointConfig> & Pick<EndpointConfig, 'path'>

const TWEET_FIELDS =
  'created_at,author_id,conversation_id,lang,public_metrics,entities,referenced_tweets,in_reply_to_user_id'
const USER_FIELDS = 'created_at,description,public_metrics,verified,location'

/**
 * Presets: pure config on top of the REST engine, one endpoint each, named `<service>.<endpoint>`.
 * Each is documented in docs/presets.md; any field can be overridden in the project's config.
 */
export const PRESETS: Readonly<
  Record<string, { readonly service: string; readonly endpoint: PresetEndpoint; readonly doc: string }>
> = {
  'x.recent_search': {
    service: 'x',
    doc: 'Tweets of the last 7 days matching `params.query` (a list: one cursor per query), with their authors. Resources: tweets, users. Incremental by since_id.',
    endpoint: {
      path: '/2/tweets/search/recent',
      params: {
        max_results: 100,
        'tweet.fields': TWEET_FIELDS,
        expansions: 'author_id',
        'user.fields': USER_FIELDS,
      },
      select: { tweets: 'data', users: 'includes.users' },
      paginator: { type: 'next_token', path: 'meta.next_token', param: 'next_token' },
      incremental: { cursorPath: 'id', param: 'since_id', type: 'number', resource: 'tweets' },
      partitionBy: 'query',
    },
  },
  'x.users_by_username': {
    service: 'x',
    doc: 'Profiles of `params.usernames` (a list, 100 per request). Resource: users.',
    endpoint: {
      path: '/2/users/by',
      params: { 'user.fields': USER_FIELDS },
      select: { users: 'data' },
      chunk: { param: 'usernames', size: 100 },
      paginator: { type: 'single' },
    },
  },
  'x.user_tweets': {
    service: 'x',
    doc: 'Timeline of each user in `params.user_id` (a list) or of each parent record; one cursor per user. Resource: tweets. Incremental by since_id.',
    endpoint: {
      path: '/2/users/{user_id}/tweets',
      params: { max_results: 100, 'tweet.fields': TWEET_FIELDS },
      select: { tweets: 'data' },
      paginator: { type: 'next_token', path: 'meta.next_token', param: 'pagination_token' },
      incremental: { cursorPath: 'id', param: 'since_id', type: 'number', resource: 'tweets' },
      partitionBy: 'user_id',
    },
  },
  'x.tweets_lookup': {
    service: 'x',
    doc: 'Current public metrics of known tweets: `params.ids` (a list) or the ids of a parent, 100 per request. Resource: tweet_metrics.',
    endpoint: {
      path: '/2/tweets',
      params: { 'tweet.fields': 'public_metrics,created_at,author_id' },
      select: { tweet_metrics: 'data' },
      chunk: { param: 'ids', size: 100 },
      paginator: { type: 'single' },
    },
  },
  'tomorrow.realtime': {
    service: 'tomorrow',
    doc: 'Current weather for each of `params.location` (a list of names or "lat,lon"). Resource: realtime.',
    endpoint: {
      path: '/v4/weather/realtime',
      params: { units: 'metric' },
      select: { realtime: '$' },
      paginator: { type: 'single' },
      partitionBy: 'location',
    },
  },
  'tomorrow.forecast': {
    service: 'tomorrow',
    doc: 'Hourly forecast for each of `params.location`. Resource: forecast (one document per location and run).',
    endpoint: {
      path: '/v4/weather/forecast',
      params: { units: 'metric', timesteps: '1h' },
      select: { forecast: '$' },
      paginator: { type: 'single' },
      partitionBy: 'location',
    },
  },
  'openmeteo.forecast': {
    service: 'openmeteo',
    doc: 'Current and hourly weather for each of `params.location`, a list of { latitude, longitude }. No key. Resource: forecast.',
    endpoint: {
      path: '/v1/forecast',
      params: { current: 'temperature_2m,relative_humidity_2m,wind_speed_10m', hourly: 'temperature_2m' },
      select: { forecast: '$' },
      paginator: { type: 'single' },
      partitionBy: 'location',
    },
  },
  'tmdb.find_by_imdb': {
    service: 'tmdb',
    doc: 'TMDB entries for each IMDB id (`params.imdb_id` list or a parent such as a movies CSV). Resources: find_movies, find_tv.',
    endpoint: {
      path: '/3/find/{imdb_id}',
      params: { external_source: 'imdb_id' },
      select: { find_movies: 'movie_results', find_tv: 'tv_results' },
      paginator: { type: 'single' },
      partitionBy: 'imdb_id',
    },
  },
  'tmdb.movie_details': {
    service: 'tmdb',
    doc: 'Details of each movie in `params.movie_id` or of each parent record. Resource: movies.',
    endpoint: {
      path: '/3/movie/{movie_id}',
      select: { movies: '$' },
      paginator: { type: 'single' },
      partitionBy: 'movie_id',
    },
  },
  'tmdb.movie_credits': {
    service: 'tmdb',
    doc: 'Cast and crew of each movie. Resource: credits (one document per movie).',
    endpoint: {
      path: '/3/movie/{movie_id}/credits',
      select: { credits: '$' },
      paginator: { type: 'single' },
      partitionBy: 'movie_id',
    },
  },
  'tmdb.movie_reviews': {
    service: 'tmdb',
    doc: 'Every page of reviews of each movie. Resource: reviews.',
    endpoint: {
      path: '/3/movie/{movie_id}/reviews',
      select: { reviews: 'results' },
      paginator: { type: 'page_number', param: 'page', start: 1, totalPath: 'total_pages' },
      partitionBy: 'movie_id',
    },
  },
}
