import { Counter, Histogram, Registry } from 'prom-client'

/** productpage's Prometheus metrics, on a registry of its own (one per app instance). */
export interface ProductpageMetrics {
  readonly registry: Registry
  /** Calls to peers by the peer's app name and its status (502/504 when it did not answer). */
  readonly upstreamResults: Counter<'destination_app' | 'response_code'>
  readonly upstreamDuration: Histogram<'destination_app'>
  /** Requests this app served. */
  readonly requests: Counter<'method' | 'route' | 'response_code'>
}

export function createMetrics(): ProductpageMetrics {
  const registry = new Registry()
  return {
    registry,
    upstreamResults: new Counter({
      name: 'request_result_total',
      help: 'Calls from productpage to details, reviews and ratings, by destination and response code',
      labelNames: ['destination_app', 'response_code'],
      registers: [registry],
    }),
    upstreamDuration: new Histogram({
      name: 'upstream_request_duration_seconds',
      help: 'Time of calls from productpage to details, reviews and ratings',
      labelNames: ['destination_app'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    requests: new Counter({
      name: 'productpage_requests_total',
      help: 'Requests served by productpage, by method, route and response code',
      labelNames: ['method', 'route', 'response_code'],
      registers: [registry],
    }),
  }
}
