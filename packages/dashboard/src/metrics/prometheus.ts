// Metrics from Prometheus (the addon, or any Prometheus scraping the proxies): the same rates the
// direct scraper computes, by rate() over the window, summed by the labels the graph uses.
import type { HttpGet } from '../access/http.ts'
import { DashboardError } from '../errors.ts'
import type { BucketRate, RequestRate } from './graph.ts'
import { DURATION_BUCKET, REQUESTS } from './rates.ts'

const BY = [
  'reporter',
  'source_workload',
  'source_version',
  'destination_service',
  'destination_workload',
  'destination_version',
]

interface VectorResult {
  metric: Record<string, string>
  value: [number, string]
}

/** One instant query; MESH_ERR_DASHBOARD_PROMQL when Prometheus says the query failed. */
export async function promQuery(get: HttpGet, base: string, expr: string): Promise<VectorResult[]> {
  const body = await get(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`)
  let parsed: { status?: string; error?: string; data?: { resultType?: string; result?: VectorResult[] } }
  try {
    parsed = JSON.parse(body)
  } catch (err) {
    throw new DashboardError('MESH_ERR_DASHBOARD_PROMQL', `Prometheus at ${base} answered no JSON`, {
      cause: err,
    })
  }
  if (parsed.status !== 'success' || parsed.data?.resultType !== 'vector')
    throw new DashboardError(
      'MESH_ERR_DASHBOARD_PROMQL',
      `query ${expr}: ${parsed.error ?? 'no vector result'}`,
    )
  return parsed.data.result ?? []
}

/** The PromQL the dashboard sends (exported for the README and the tests). */
export function rateQueries(windowSeconds: number): { requests: string; buckets: string } {
  const w = `${Math.max(1, Math.round(windowSeconds))}s`
  return {
    requests: `sum by (${[...BY, 'response_code', 'connection_security_policy'].join(', ')}) (rate(${REQUESTS}[${w}]))`,
    buckets: `sum by (${[...BY, 'le'].join(', ')}) (rate(${DURATION_BUCKET}[${w}]))`,
  }
}

export async function prometheusRates(
  get: HttpGet,
  base: string,
  windowSeconds: number,
): Promise<{ requests: RequestRate[]; buckets: BucketRate[] }> {
  const q = rateQueries(windowSeconds)
  const [req, bkt] = await Promise.all([promQuery(get, base, q.requests), promQuery(get, base, q.buckets)])
  return {
    requests: req.map((r) => ({ labels: r.metric, rate: Number(r.value[1]) })),
    buckets: bkt.flatMap((r) => {
      const { le, ...labels } = r.metric
      const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le)
      return Number.isNaN(bound) ? [] : [{ labels, le: bound, rate: Number(r.value[1]) }]
    }),
  }
}
