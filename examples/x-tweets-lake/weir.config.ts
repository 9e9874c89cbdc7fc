// Seeds 000, 003 and 004: X recent search every 5 minutes into a lake, tweets and users refined,
// the tweet star schema, PostgreSQL for analysts, tweets served by id and by author, Athena DDL.
// Seed 004's three datasets on its cadences: the profiles of a list of accounts once a day, their
// timelines every 4 hours (backfilled from 2022-01-01 with `weir backfill x_timelines`), and the
// public metrics of the last 7 days' tweets in the lake every 2 hours.
// Without X_BEARER_TOKEN the X API is Weir's simulator, in-process: `weir run --once` needs nothing.
import { defineConfig } from 'weir-lake'

// "simulator" until a real token is set; an empty X_API_URL is X's own API (set it for a proxy or
// a stand-in).
const X = { baseUrl: '${X_API_URL:-}', auth: { bearer: '${X_BEARER_TOKEN:-simulator}' } }
// The accounts seed 004 follows (the simulator's own; put real handles here).
const ACCOUNTS = ['user_1', 'user_2', 'user_3', 'user_4', 'user_5']

export default defineConfig({
  lake: '${WEIR_LAKE:-./lake}',
  sources: {
    x: {
      kind: 'rest',
      ...X,
      endpoints: {
        // Recent tweets of the queries (incremental by since_id), with their authors.
        search: { preset: 'x.recent_search', params: { query: ['#dataengineering -is:retweet', '#duckdb'] } },
        // The public metrics of the tweets just found, as they were when found.
        metrics: {
          preset: 'x.tweets_lookup',
          parent: { endpoint: 'search', resource: 'tweets', fields: { ids: 'id' } },
        },
      },
    },
    // Seed 004: the accounts followed, their profiles once a day.
    x_profiles: {
      kind: 'rest',
      ...X,
      endpoints: { profiles: { preset: 'x.users_by_username', params: { usernames: ACCOUNTS } } },
    },
    // Their timelines (incremental by since_id, one cursor per account), every 4 hours.
    x_timelines: {
      kind: 'rest',
      ...X,
      endpoints: {
        timelines: {
          preset: 'x.user_tweets',
          parent: { source: 'x_profiles', resource: 'users', fields: { user_id: 'id' } },
        },
      },
    },
    // The metrics of every tweet of the last 7 days the lake holds, asked again every 2 hours: the
    // trusted table keeps the latest, and each raw file the run that saw it.
    x_metrics: {
      kind: 'rest',
      ...X,
      endpoints: {
        refresh: {
          preset: 'x.tweets_lookup',
          // When each tweet's metrics were read: the raw table holds them "as of" every run.
          stamp: 'fetched_at',
          parent: {
            sql: 'select id from trusted.x_timelines_tweets where created_at > now() - interval 7 days union select id from trusted.x_tweets where created_at > now() - interval 7 days',
            fields: { ids: 'id' },
          },
        },
      },
    },
  },
  tables: {
    'x.tweets': { eventTime: 'created_at', primaryKey: 'id' },
    'x.users': { primaryKey: 'id' },
    'x.tweet_metrics': { primaryKey: 'id' },
    'x_profiles.users': { primaryKey: 'id' },
    'x_timelines.tweets': { eventTime: 'created_at', primaryKey: 'id' },
    'x_metrics.tweet_metrics': { primaryKey: 'id' },
  },
  landing: { path: 'raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}', maxRecords: 1000, maxAge: '60s' },
  models: { dir: '../models/tweets', snapshots: '../snapshots', tests: '../tests' },
  // Only with a database to load into.
  ...(process.env.DATABASE_URL
    ? { warehouse: { postgres: { url: '${DATABASE_URL}', schema: '${WEIR_PG_SCHEMA:-x}' } } }
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
    jobs: {
      x: { schedule: 'rate(5 minutes)' },
      x_profiles: { schedule: 'cron(0 6 * * ? *)' },
      x_timelines: { schedule: 'rate(4 hours)' },
      x_metrics: { schedule: 'rate(2 hours)' },
      models: { schedule: 'rate(2 hours)' },
    },
    // `weir backfill x_timelines --from 2022-01-01 --to 2022-12-31`: a month a run.
    backfill: {
      x_timelines: { window: '30d', params: { start_time: '{start}', end_time: '{end}' } },
    },
  },
})
