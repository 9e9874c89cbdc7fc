// Seed 001: weather readings every few minutes, thresholds that page by email and SMS, quiet hours.
// Without TOMORROW_API_KEY both APIs are Weir's simulator; SMTP and Twilio come from the environment.
import { defineConfig } from 'weir-lake'

const cities = ['toronto', 'sao paulo', 'lisbon', 'phoenix', 'new york']

export default defineConfig({
  lake: '${WEIR_LAKE:-./lake}',
  sources: {
    weather: {
      preset: 'tomorrow.realtime',
      // "simulator" until a real key is set; an empty TOMORROW_API_URL is Tomorrow.io's own API.
      baseUrl: '${TOMORROW_API_URL:-}',
      auth: { apiKey: '${TOMORROW_API_KEY:-simulator}' },
      params: { location: cities },
    },
    openmeteo: {
      preset: 'openmeteo.forecast',
      // Open-Meteo needs no key: the simulator unless OPENMETEO_URL says where (https://api.open-meteo.com).
      baseUrl: '${OPENMETEO_URL:-simulator}',
      params: {
        location: [
          { latitude: 43.65, longitude: -79.38 },
          { latitude: 38.72, longitude: -9.14 },
        ],
      },
    },
  },
  tables: { 'weather.realtime': { eventTime: 'data.time' } },
  // Readings by the hour of their time, as the seed's Firehose partitioned them.
  landing: { path: 'raw/{source}/{format}/{resource}/{yyyy}/{mm}/{dd}/{hh}', maxRecords: 500, maxAge: '30s' },
  models: { dir: '../models/weather', snapshots: './none', tests: './none' },
  alerts: {
    timeZone: '${ALERTS_TZ:-America/Toronto}',
    window: { quiet: { from: '${QUIET_FROM:-23:00}', to: '${QUIET_TO:-06:00}' } },
    channels: {
      email: {
        kind: 'email',
        host: '${SMTP_HOST:-127.0.0.1}',
        port: '${SMTP_PORT:-2525}',
        // No SMTP_USER: no login (a local relay).
        user: '${SMTP_USER:-}',
        pass: '${SMTP_PASS:-}',
        from: '${ALERT_FROM:-weir@example.com}',
        to: ['${ALERT_TO:-oncall@example.com}'],
      },
      sms: {
        kind: 'twilio',
        accountSid: '${TWILIO_ACCOUNT_SID:-AC-simulated}',
        authToken: '${TWILIO_AUTH_TOKEN:-simulated}',
        from: '${TWILIO_FROM:-+15005550006}',
        to: ['${ALERT_SMS_TO:-+15551234567}'],
        baseUrl: '${TWILIO_URL:-https://api.twilio.com}',
        // Without an account (or a stand-in), messages are printed, not sent.
        dryRun: !process.env.TWILIO_ACCOUNT_SID && !process.env.TWILIO_URL,
        dailyCap: 20,
      },
    },
    rules: {
      heat: {
        source: 'weather',
        resource: 'realtime',
        when: 'data.values.temperature > ${HEAT_C:-30}',
        key: 'location.name',
        repeatInterval: '2h',
        channels: ['email', 'sms'],
        subject: 'Heat in {{ location.name }}: {{ data.values.temperature }} °C',
      },
      cold: {
        source: 'weather',
        resource: 'realtime',
        when: 'data.values.temperature < ${COLD_C:-0}',
        key: 'location.name',
        channels: ['email'],
        subject: 'Cold in {{ location.name }}: {{ data.values.temperature }} °C',
      },
      stale: { source: 'weather', noData: '30m', channels: ['email'] },
    },
  },
  run: { jobs: { weather: { schedule: 'rate(5 minutes)' }, openmeteo: { schedule: 'rate(15 minutes)' } } },
})
