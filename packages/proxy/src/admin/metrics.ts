// Prometheus metrics (served on 15020 at /stats/prometheus): Istio's standard request metrics
// under minimesh names, and per-cluster upstream counters read from the clusters at scrape time.
// The per-request path caches prom-client label children by one string key, so recording a
// request is a Map lookup, an increment and a histogram observe.
import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { ClusterStats } from '../cluster/cluster.ts'
import type { ConfigStore } from '../config/store.ts'
import type { RequestRecord } from '../http/record.ts'

const LABELS = [
  'reporter',
  'source_workload',
  'source_version',
  'destination_service',
  'destination_workload',
  'destination_version',
  'response_code',
  'response_flags',
] as const

/** Istio's request-duration buckets (ms). */
const BUCKETS = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000,
  3600000,
]

interface Children {
  count: { inc(): void }
  duration: { observe(v: number): void }
}

type StatName = keyof ClusterStats

/** Cluster counters exported to Prometheus: metric name → stat, and whether it is a gauge. */
const CLUSTER_METRICS: [string, StatName, 'counter' | 'gauge', string][] = [
  ['minimesh_upstream_cx_total', 'upstream_cx_total', 'counter', 'Upstream connections opened'],
  ['minimesh_upstream_cx_active', 'upstream_cx_active', 'gauge', 'Upstream connections open'],
  [
    'minimesh_upstream_cx_connect_fail_total',
    'upstream_cx_connect_fail',
    'counter',
    'Upstream connection failures',
  ],
  ['minimesh_upstream_rq_total', 'upstream_rq_total', 'counter', 'Upstream requests (tries)'],
  [
    'minimesh_upstream_rq_pending_overflow_total',
    'upstream_rq_pending_overflow',
    'counter',
    'Requests refused by connection-pool limits (503 UO)',
  ],
  ['minimesh_upstream_rq_retry_total', 'upstream_rq_retry', 'counter', 'Retries'],
  [
    'minimesh_upstream_rq_retry_overflow_total',
    'upstream_rq_retry_overflow',
    'counter',
    'Retries refused by the retry budget',
  ],
  ['minimesh_upstream_rq_timeout_total', 'upstream_rq_timeout', 'counter', 'Upstream request timeouts'],
  [
    'minimesh_outlier_detection_ejections_total',
    'outlier_detection_ejections_total',
    'counter',
    'Outlier ejections',
  ],
]

export class ProxyMetrics {
  readonly registry = new Registry()
  private readonly requests: Counter<(typeof LABELS)[number]>
  private readonly duration: Histogram<(typeof LABELS)[number]>
  private readonly children = new Map<string, Children>()

  constructor(store: ConfigStore) {
    const registers = [this.registry]
    this.requests = new Counter({
      name: 'minimesh_requests_total',
      help: 'Requests handled',
      labelNames: LABELS,
      registers,
    })
    this.duration = new Histogram({
      name: 'minimesh_request_duration_milliseconds',
      help: 'Request duration in milliseconds',
      labelNames: LABELS,
      buckets: BUCKETS,
      registers,
    })
    for (const [name, stat, kind, help] of CLUSTER_METRICS) {
      const collect = function (this: Counter<'cluster_name'> | Gauge<'cluster_name'>) {
        this.reset()
        for (const [cluster, s] of store.clusterStats) {
          if (s[stat] !== 0) (this as Counter<'cluster_name'>).inc({ cluster_name: cluster }, s[stat])
        }
      }
      if (kind === 'counter') new Counter({ name, help, labelNames: ['cluster_name'], registers, collect })
      else new Gauge({ name, help, labelNames: ['cluster_name'], registers, collect })
    }
    new Gauge({
      name: 'minimesh_outlier_detection_ejections_active',
      help: 'Hosts ejected now',
      labelNames: ['cluster_name'],
      registers,
      collect() {
        this.reset()
        for (const [name, c] of store.current.clusters) {
          const n = c.ejectedCount
          if (n > 0) this.set({ cluster_name: name }, n)
        }
      },
    })
  }

  /** Records one finished request. */
  record(rec: RequestRecord, durationMs: number): void {
    const reporter = rec.direction === 'INBOUND' ? 'destination' : 'source'
    const sw = rec.source?.workload ?? 'unknown'
    const sv = rec.source?.labels.version ?? 'unknown'
    const ds = rec.destinationService ?? 'unknown'
    const dw = rec.destinationWorkload ?? 'unknown'
    const dv = rec.destinationVersion ?? 'unknown'
    const code = rec.status
    const flags = rec.flags || '-'
    const key = `${reporter}\x01${sw}\x01${sv}\x01${ds}\x01${dw}\x01${dv}\x01${code}\x01${flags}`
    let ch = this.children.get(key)
    if (!ch) {
      const labels = {
        reporter,
        source_workload: sw,
        source_version: sv,
        destination_service: ds,
        destination_workload: dw,
        destination_version: dv,
        response_code: String(code),
        response_flags: flags,
      }
      ch = { count: this.requests.labels(labels), duration: this.duration.labels(labels) }
      if (this.children.size > 10_000) this.children.clear()
      this.children.set(key, ch)
    }
    ch.count.inc()
    ch.duration.observe(durationMs)
  }

  text(): Promise<string> {
    return this.registry.metrics()
  }
}
