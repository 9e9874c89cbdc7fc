const BUCKETS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500]

/** Request counts and a latency histogram per route and status, in Prometheus's text format. */
export function createMetrics() {
  const series = new Map<string, { labels: string; count: number; sum: number; buckets: number[] }>()
  return {
    observe(method: string, route: string, status: number, ms: number) {
      const labels = `method="${method}",route="${route.replace(/"/g, '')}",status="${status}"`
      let s = series.get(labels)
      if (!s) {
        s = { labels, count: 0, sum: 0, buckets: BUCKETS.map(() => 0) }
        series.set(labels, s)
      }
      s.count++
      s.sum += ms / 1000
      for (const [i, b] of BUCKETS.entries()) if (ms <= b) s.buckets[i]!++
    },
    text(): string {
      const lines = [
        '# HELP weir_http_requests_total HTTP requests served.',
        '# TYPE weir_http_requests_total counter',
        ...[...series.values()].map((s) => `weir_http_requests_total{${s.labels}} ${s.count}`),
        '# HELP weir_http_request_duration_seconds Time to answer a request.',
        '# TYPE weir_http_request_duration_seconds histogram',
      ]
      for (const s of series.values()) {
        for (const [i, b] of BUCKETS.entries())
          lines.push(
            `weir_http_request_duration_seconds_bucket{${s.labels},le="${b / 1000}"} ${s.buckets[i]}`,
          )
        lines.push(`weir_http_request_duration_seconds_bucket{${s.labels},le="+Inf"} ${s.count}`)
        lines.push(`weir_http_request_duration_seconds_sum{${s.labels}} ${s.sum}`)
        lines.push(`weir_http_request_duration_seconds_count{${s.labels}} ${s.count}`)
      }
      return `${lines.join('\n')}\n`
    },
  }
}
