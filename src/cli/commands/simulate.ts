import { startSimulator } from '../../sources/simulator/simulator.js'

/** `weir simulate`: serve the fake APIs until interrupted. */
export async function simulateCommand(opts: {
  port: number
  host: string
  seed: number
  tweetsPerHour: number
  failRate: number
  latency: number
  streamRate: number
  dropEvery: number
  frozen?: boolean
}): Promise<void> {
  const start = Date.now()
  // Listening from the first moment: a SIGTERM while the servers start stops them once started.
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve())
    process.once('SIGTERM', () => resolve())
  })
  const sim = await startSimulator({
    ...(opts.frozen ? { now: () => start } : {}),
    port: opts.port,
    host: opts.host,
    seed: opts.seed,
    tweetsPerHour: opts.tweetsPerHour,
    failRate: opts.failRate,
    latencyMs: opts.latency,
    streams: { rate: opts.streamRate },
  })
  const drops = opts.dropEvery
    ? setInterval(() => sim.streams.disconnect(), opts.dropEvery * 1000)
    : undefined
  process.stdout.write(
    [
      `weir simulate: fake X, Tomorrow.io, Open-Meteo and TMDB APIs on ${sim.url}`,
      '  point a preset at it with baseUrl, e.g.',
      `    x: { preset: 'x.recent_search', baseUrl: '${sim.url}', auth: { bearer: 'any' }, params: { query: ['#duckdb'] } }`,
      `  streams: ${sim.url}/2/tweets/search/stream (kind: http-stream, preset: x.filtered_stream) and ${sim.url}/sse/readings (format: sse)`,
      '  any non-empty token or key is accepted. Ctrl+C stops.',
      '',
    ].join('\n'),
  )
  await stopped
  clearInterval(drops)
  await sim.close()
  process.stdout.write(`served ${sim.requests.length} requests\n`)
}
