// Seed 001: weather readings every few minutes, thresholds that page by email and SMS, quiet hours.
// Without TOMORROW_API_KEY both APIs are Weir's simulator; SMTP and Twilio come from the environment.
const key = process.env.TOMORROW_API_KEY || undefined
// The simulator without a credential; with one, the real API, or another address (a proxy, a
// stand-in) given in the environment.
const api = (secret: string | undefined, url: string | undefined) =>
  !secret ? { baseUrl: 'simulator' } : url ? { baseUrl: url } : {}
const cities = ['toronto', 'sao paulo', 'lisbon', 'phoenix', 'new york']

export default {
  lake: process.env.WEIR_LAKE || './lake',
  sources: {
    weather: {
      preset: 'tomorrow.realtime',
      ...api(key, process.env.TOMORROW_API_URL),
      auth: { apiKey: key ?? 'simulator' },
      params: { location: cities },
    },
    // Open-Meteo needs no key.
    openmeteo: {
      preset: 'openmeteo.forecast',
      ...(process.env.OPENMETEO_LIVE ? {} : { baseUrl: 'simulator' }),
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
    timeZone: process.env.ALERTS_TZ || 'America/Toronto',
    window: { quiet: { from: process.env.QUIET_FROM || '23:00', to: process.env.QUIET_TO || '06:00' } },
    channels: {
      email: {
        kind: 'email',
        host: process.env.SMTP_HOST || '127.0.0.1',
        port: Number(process.env.SMTP_PORT || 2525),
        ...(process.env.SMTP_USER ? { user: process.env.SMTP_USER, pass: process.env.SMTP_PASS } : {}),
        from: process.env.ALERT_FROM || 'weir@example.com',
        to: (process.env.ALERT_TO || 'oncall@example.com').split(','),
      },
      sms: {
        kind: 'twilio',
        accountSid: process.env.TWILIO_ACCOUNT_SID || 'AC-simulated',
        authToken: process.env.TWILIO_AUTH_TOKEN || 'simulated',
        from: process.env.TWILIO_FROM || '+15005550006',
        to: (process.env.ALERT_SMS_TO || '+15551234567').split(','),
        baseUrl: process.env.TWILIO_URL || 'https://api.twilio.com',
        dryRun: !process.env.TWILIO_ACCOUNT_SID && !process.env.TWILIO_URL,
        dailyCap: 20,
      },
    },
    rules: {
      heat: {
        source: 'weather',
        resource: 'realtime',
        when: `data.values.temperature > ${Number(process.env.HEAT_C || 30)}`,
        key: 'location.name',
        repeatInterval: '2h',
        channels: ['email', 'sms'],
        subject: 'Heat in {{ location.name }}: {{ data.values.temperature }} °C',
      },
      cold: {
        source: 'weather',
        resource: 'realtime',
        when: `data.values.temperature < ${Number(process.env.COLD_C || 0)}`,
        key: 'location.name',
        channels: ['email'],
        subject: 'Cold in {{ location.name }}: {{ data.values.temperature }} °C',
      },
      stale: { source: 'weather', noData: '30m', channels: ['email'] },
    },
  },
  run: { jobs: { weather: { schedule: 'rate(5 minutes)' }, openmeteo: { schedule: 'rate(15 minutes)' } } },
}
