// Seed 003: X's filtered stream into the lake (raw JSON as it came, Parquet for Athena) and into
// served tables: one row per tweet with the author's profile and how many tweets the author made
// that day, and tweets per user over the last 24 hours, behind a read-only API (DynamoDB with
// WEIR_SERVE_STORE=dynamodb).
// Without X_BEARER_TOKEN the stream is Weir's simulator, in-process: `weir run --once` needs nothing.
import { defineConfig } from 'weir-lake'

export default defineConfig({
  lake: '${WEIR_LAKE:-./lake}',
  sources: {
    x_stream: {
      kind: 'http-stream',
      preset: 'x.filtered_stream',
      // Empty: X's own API; set X_API_URL for a proxy or a stand-in.
      baseUrl: '${X_API_URL:-}',
      // "simulator" until a real token is set: then the stream is Weir's simulator.
      auth: { bearer: '${X_BEARER_TOKEN:-simulator}' },
      // The app's whole rule set: rules not listed here are deleted at start.
      rules: [
        { value: '#dataengineering -is:retweet', tag: 'dataengineering' },
        { value: '#duckdb OR #streaming OR #analytics', tag: 'tools' },
      ],
      // Pro and Enterprise plans can get back what a disconnect missed: set 5.
      backfillMinutes: 0,
      // How long `weir run --once` and `weir ingest` read; `weir run` reads until stopped.
      runFor: '${X_STREAM_RUN_FOR:-10s}',
    },
  },
  tables: {
    'x_stream.tweets': { eventTime: 'created_at', primaryKey: 'id' },
    'x_stream.users': { primaryKey: 'id' },
  },
  // Small files, often: the lake is a few seconds behind the stream, as Firehose's buffer was.
  landing: { maxRecords: 500, maxAge: '5s' },
  models: { dir: '../models/stream', snapshots: './none', tests: './none' },
  serve: {
    // DynamoDB reads AWS_REGION and the AWS credentials (or AWS_ENDPOINT_URL_DYNAMODB) from the environment.
    store: process.env.WEIR_SERVE_STORE === 'dynamodb' ? { kind: 'dynamodb' } : { kind: 'embedded' },
    tables: {
      // /v1/tweets/<hash_line>, /v1/tweets?user_id=…
      tweets: { model: 'tweets_served', key: 'hash_line', indexes: { user_id: 'string' } },
      // /v1/user_counts/<user_id>
      user_counts: { model: 'user_tweet_counts', key: 'user_id' },
    },
  },
  run: {
    // Models (and so the served tables) every minute while the stream flows.
    jobs: { models: { schedule: 'rate(1 minute)' } },
  },
})
