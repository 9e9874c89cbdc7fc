import { ok, type Route, type SimResponse } from './routes.js'
import { CITIES, type World } from './world.js'

const iso = (t: number) => new Date(t).toISOString().replace(/\.\d+Z$/, 'Z')

function tomorrowError(status: number, code: number, type: string, message: string): SimResponse {
  return { status, body: { code, type, message } }
}

function locate(world: World, location: string | null) {
  if (!location) return undefined
  return world.city(location)
}

export const weatherRoutes: readonly Route[] = [
  {
    api: 'tomorrow',
    pattern: /^\/v4\/weather\/realtime$/,
    auth: 'tomorrow',
    handle(req, world) {
      const city = locate(world, req.params.get('location'))
      if (!city)
        return tomorrowError(400, 400001, 'Invalid Query Parameters', 'The provided location is not valid.')
      const t = Math.floor(req.now / 60_000) * 60_000
      return ok({
        data: { time: iso(t), values: world.weather(city, t) },
        location: { lat: city.lat, lon: city.lon, name: city.name, type: 'administrative' },
      })
    },
  },
  {
    api: 'tomorrow',
    pattern: /^\/v4\/weather\/forecast$/,
    auth: 'tomorrow',
    handle(req, world) {
      const city = locate(world, req.params.get('location'))
      if (!city)
        return tomorrowError(400, 400001, 'Invalid Query Parameters', 'The provided location is not valid.')
      const hour = Math.floor(req.now / 3_600_000) * 3_600_000
      const steps = (req.params.get('timesteps') ?? '1h,1d').split(',')
      const timelines: Record<string, unknown> = {}
      if (steps.includes('1h')) {
        timelines.hourly = Array.from({ length: 24 }, (_, k) => ({
          time: iso(hour + k * 3_600_000),
          values: world.weather(city, hour + k * 3_600_000),
        }))
      }
      if (steps.includes('1d')) {
        timelines.daily = Array.from({ length: 5 }, (_, k) => ({
          time: iso(Math.floor(req.now / 86_400_000) * 86_400_000 + k * 86_400_000),
          values: world.weather(city, hour + k * 86_400_000),
        }))
      }
      return ok({
        timelines,
        location: { lat: city.lat, lon: city.lon, name: city.name, type: 'administrative' },
      })
    },
  },
  {
    api: 'openmeteo',
    pattern: /^\/v1\/forecast$/,
    auth: 'none',
    handle(req, world) {
      const lat = req.params.get('latitude')
      const lon = req.params.get('longitude')
      if (lat === null || lon === null || Number.isNaN(Number(lat)) || Number.isNaN(Number(lon))) {
        return { status: 400, body: { error: true, reason: 'Parameter latitude and longitude must be set' } }
      }
      const city = world.city(`${lat},${lon}`) ?? { ...CITIES[0]!, lat: Number(lat), lon: Number(lon) }
      const quarter = Math.floor(req.now / 900_000) * 900_000
      const w = world.weather(city, quarter)
      const current = (req.params.get('current') ?? '').split(',').filter(Boolean)
      const hourlyVars = (req.params.get('hourly') ?? '').split(',').filter(Boolean)
      const value = (name: string, wx: ReturnType<World['weather']>) =>
        name.startsWith('temperature')
          ? wx.temperature
          : name.startsWith('relative_humidity')
            ? wx.humidity
            : name.startsWith('wind_speed')
              ? wx.windSpeed
              : name.startsWith('precipitation')
                ? wx.precipitationProbability
                : 0
      const hour = Math.floor(req.now / 3_600_000) * 3_600_000
      const hours = Array.from({ length: 24 }, (_, k) => hour + k * 3_600_000)
      return ok({
        latitude: Number(Number(lat).toFixed(4)),
        longitude: Number(Number(lon).toFixed(4)),
        generationtime_ms: 0.05,
        utc_offset_seconds: 0,
        timezone: 'GMT',
        timezone_abbreviation: 'GMT',
        elevation: 100,
        ...(current.length
          ? {
              current_units: Object.fromEntries([
                ['time', 'iso8601'],
                ['interval', 'seconds'],
                ...current.map((c) => [c, '-']),
              ]),
              current: {
                time: iso(quarter).slice(0, 16),
                interval: 900,
                ...Object.fromEntries(current.map((c) => [c, value(c, w)])),
              },
            }
          : {}),
        ...(hourlyVars.length
          ? {
              hourly_units: Object.fromEntries([['time', 'iso8601'], ...hourlyVars.map((c) => [c, '-'])]),
              hourly: {
                time: hours.map((t) => iso(t).slice(0, 16)),
                ...Object.fromEntries(
                  hourlyVars.map((c) => [c, hours.map((t) => value(c, world.weather(city, t)))]),
                ),
              },
            }
          : {}),
      })
    },
  },
]
