// Seeds 000, 003 and 004: X recent search every 5 minutes into a lake, tweets and users refined,
// the tweet star schema, PostgreSQL for analysts, tweets served by id and by author, Athena DDL.
// Without X_BEARER_TOKEN the X API is Weir's simulator, in-process: `weir run --once` needs nothing.
const token = process.env.X_BEARER_TOKEN || undefined
// The simulator without a credential; with one, the real API, or another address (a proxy, a
// stand-in) given in the environment.
const api = (secret: string | undefined, url: string | undefined) =>
  !secret ? { baseUrl: 'simulator' } : url ? { baseUrl: url } : {}

export default {
  lake: process.env.WEIR_LAKE || './lake',
  sources: {
    x: {
      kind: 'rest',
      ...api(token, process.env.X_API_URL),
      auth: { bearer: token ?? 'simulator' },
      endpoints: {
        // Recent tweets of the queries (incremental by since_id), with their authors.
        search: { preset: 'x.recent_search', params: { query: ['#dataengineering -is:retweet', '#duckdb'] } },
        // The public metrics of the tweets just found, refreshed (the seed refreshes every 2 hours).
        metrics: {
          preset: 'x.tweets_lookup',
          parent: { endpoint: 'search', resource: 'tweets', fields: { ids: 'id' } },
        },
      },
    },
  },
  tables: {
    'x.tweets': { eventTime: 'created_at', primaryKey: 'id' },
    'x.users': { primaryKey: 'id' },
    'x.tweet_metrics': { primaryKey: 'id' },
  },
  landing: { path: 'raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}', maxRecords: 1000, maxAge: '60s' },
  models: { dir: '../models/tweets', snapshots: '../snapshots', tests: '../tests' },
  ...(process.env.DATABASE_URL
    ? {
        warehouse: { postgres: { url: process.env.DATABASE_URL, schema: process.env.WEIR_PG_SCHEMA || 'x' } },
      }
    : {}),
  serve: {
    tables: {
      tweets: {
        source: 'x',
        resource: 'tweets',
        key: 'id',
        indexes: { author_id: 'string', created_at: 'string' },
      },
    },
  },
  run: {
    jobs: { x: { schedule: 'rate(5 minutes)' }, models: { schedule: 'rate(2 hours)' } },
  },
}
