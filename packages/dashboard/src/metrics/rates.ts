// Per-second rates from cumulative counters scraped at two moments (what PromQL's rate() does
// from stored samples, for when no Prometheus is configured). A counter lower than before was
// reset (the proxy restarted): its current value is the increase, as rate() assumes.
import type { BucketRate, RequestRate } from './graph.ts'
import type { Sample } from './parse.ts'

export const REQUESTS = 'minimesh_requests_total'
export const DURATION_BUCKET = 'minimesh_request_duration_milliseconds_bucket'

/** One scrape of one proxy: when, and the samples of the two request metrics. */
export interface Scrape {
  at: number
  samples: Sample[]
}

function keyOf(s: Sample): string {
  const names = Object.keys(s.labels).sort()
  return `${s.name}{${names.map((n) => `${n}=${s.labels[n]}`).join(',')}}`
}

/**
 * Rates between an earlier and a later scrape of the same proxy. A series absent earlier started
 * from 0 within the interval (the proxy creates a series on its first request).
 */
export function ratesBetween(
  earlier: Scrape,
  later: Scrape,
): { requests: RequestRate[]; buckets: BucketRate[] } {
  const seconds = (later.at - earlier.at) / 1000
  const requests: RequestRate[] = []
  const buckets: BucketRate[] = []
  if (!(seconds > 0)) return { requests, buckets }
  const before = new Map(earlier.samples.map((s) => [keyOf(s), s.value]))
  for (const s of later.samples) {
    const prev = before.get(keyOf(s)) ?? 0
    const increase = s.value >= prev ? s.value - prev : s.value
    const rate = increase / seconds
    if (s.name === REQUESTS) requests.push({ labels: s.labels, rate })
    else if (s.name === DURATION_BUCKET) {
      const { le, ...labels } = s.labels
      const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le)
      if (!Number.isNaN(bound)) buckets.push({ labels, le: bound, rate })
    }
  }
  return { requests, buckets }
}
