// Prometheus metrics (served at /stats/prometheus on the status and Prometheus ports): Istio's standard request metrics
// under minimesh names, and per-cluster upstream counters read from the clusters at scrape time.
// The request metrics are kept here rather than in prom-client (whose per-observation label
// validation and hashing dominated the metrics cost): recording a request is one string key, a
// Map lookup and a few increments; their exposition text is rendered at scrape time. The cluster
// counters are rendered the same way, so the proxy does not load prom-client (~20 MB resident
// with its OpenTelemetry dependency) unless a policy that uses it (quota) is configured.
import type { ClusterStats } from '../cluster/cluster.ts'
import type { XdsConfigStore } from '../config/store.ts'
import type { RequestRecord } from '../http/record.ts'
import type { CertificateStore } from '../identity/certificates.ts'

const LABELS = [
  'reporter',
  'source_workload',
  'source_version',
  'destination_service',
  'destination_workload',
  'destination_version',
  'response_code',
  'response_flags',
  // Istio's security labels: principals from mesh mTLS, and how the destination was reached.
  'source_principal',
  'destination_principal',
  'connection_security_policy',
] as const

/** Istio's request-duration buckets (ms). */
const BUCKETS = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000,
  3600000,
]

/** One request series: its rendered label set, count, and duration histogram (non-cumulative buckets). */
interface Series {
  labels: string
  count: number
  sum: number
  buckets: Float64Array
}

/** The label values of the last recorded request. */
interface LastLabels {
  reporter: string
  sw: string
  sv: string
  ds: string
  dw: string
  dv: string
  code: number
  flags: string
  sp: string
  dp: string
  csp: string
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
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
    'minimesh_upstream_rq_mtls_no_certificate_total',
    'upstream_rq_mtls_no_certificate',
    'counter',
    'Requests to mesh endpoints sent plaintext: no workload certificate yet',
  ],
  [
    'minimesh_outlier_detection_ejections_total',
    'outlier_detection_ejections_total',
    'counter',
    'Outlier ejections',
  ],
]

/** Another source of Prometheus text appended to /stats/prometheus (a prom-client Registry fits). */
export interface MetricsSource {
  metrics(): Promise<string> | string
}

/** The Prometheus text format's content type. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

export class ProxyMetrics {
  private readonly store: XdsConfigStore
  private readonly certs: CertificateStore | undefined
  private readonly series = new Map<string, Series>()
  private readonly sources: MetricsSource[] = []
  private last: (LastLabels & { series: Series }) | undefined
  /** Inbound connections refused by mesh mTLS (PeerAuthentication), by reason. */
  private readonly refused = new Map<string, number>()

  constructor(store: XdsConfigStore, certs?: CertificateStore) {
    this.store = store
    this.certs = certs
  }

  /** An inbound connection refused by mesh mTLS: plaintext on STRICT, no certificate, failed handshake. */
  mtlsRefused(reason: string): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1)
  }

  /** Appends a source's metrics (the quota policy's counters) to the proxy's. */
  addSource(source: MetricsSource): void {
    this.sources.push(source)
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
    // Istio: the destination reports the downstream's principal from its certificate and how the
    // connection was secured; the source reports the principal the upstream proved, and 'unknown'
    // for the policy.
    const own = this.certs?.principal ?? 'unknown'
    let sp: string
    let dp: string
    let csp: string
    if (reporter === 'destination') {
      sp = rec.downstreamPeerPrincipal ?? 'unknown'
      dp = rec.downstreamSecurity === 'mutual_tls' ? own : 'unknown'
      csp = rec.downstreamSecurity === 'mutual_tls' ? 'mutual_tls' : 'none'
    } else {
      sp = rec.upstreamPeerPrincipal !== undefined ? own : 'unknown'
      dp = rec.upstreamPeerPrincipal ?? 'unknown'
      csp = 'unknown'
    }
    // Consecutive requests mostly share their labels: compare with the last series' values
    // (string identity, usually) before building and hashing the key.
    const last = this.last
    let se: Series | undefined
    if (
      last !== undefined &&
      last.code === code &&
      last.reporter === reporter &&
      last.sw === sw &&
      last.sv === sv &&
      last.ds === ds &&
      last.dw === dw &&
      last.dv === dv &&
      last.flags === flags &&
      last.sp === sp &&
      last.dp === dp &&
      last.csp === csp
    ) {
      se = last.series
    } else {
      const key = `${reporter}\x01${sw}\x01${sv}\x01${ds}\x01${dw}\x01${dv}\x01${code}\x01${flags}\x01${sp}\x01${dp}\x01${csp}`
      se =
        this.series.get(key) ??
        this.newSeries(key, [reporter, sw, sv, ds, dw, dv, String(code), flags, sp, dp, csp])
      this.last = { reporter, sw, sv, ds, dw, dv, code, flags, sp, dp, csp, series: se }
    }
    se.count++
    se.sum += durationMs
    let b = 0
    while (b < BUCKETS.length && durationMs > BUCKETS[b]!) b++
    se.buckets[b]!++
  }

  private newSeries(key: string, values: string[]): Series {
    const se: Series = {
      labels: LABELS.map((n, i) => `${n}="${escapeLabel(values[i]!)}"`).join(','),
      count: 0,
      sum: 0,
      buckets: new Float64Array(BUCKETS.length + 1),
    }
    this.series.set(key, se)
    return se
  }

  /** Prometheus text of the request counter and duration histogram. */
  private requestText(): string {
    const c = ['# HELP minimesh_requests_total Requests handled', '# TYPE minimesh_requests_total counter']
    const h = [
      '# HELP minimesh_request_duration_milliseconds Request duration in milliseconds',
      '# TYPE minimesh_request_duration_milliseconds histogram',
    ]
    for (const se of this.series.values()) {
      c.push(`minimesh_requests_total{${se.labels}} ${se.count}`)
      let acc = 0
      for (let i = 0; i < BUCKETS.length; i++) {
        acc += se.buckets[i]!
        h.push(`minimesh_request_duration_milliseconds_bucket{le="${BUCKETS[i]}",${se.labels}} ${acc}`)
      }
      h.push(`minimesh_request_duration_milliseconds_bucket{le="+Inf",${se.labels}} ${se.count}`)
      h.push(`minimesh_request_duration_milliseconds_sum{${se.labels}} ${se.sum}`)
      h.push(`minimesh_request_duration_milliseconds_count{${se.labels}} ${se.count}`)
    }
    const r = [
      '# HELP minimesh_mtls_connections_refused_total Inbound connections refused by mesh mTLS (PeerAuthentication)',
      '# TYPE minimesh_mtls_connections_refused_total counter',
    ]
    for (const [reason, n] of this.refused)
      r.push(`minimesh_mtls_connections_refused_total{reason="${reason}"} ${n}`)
    return `${c.join('\n')}\n\n${h.join('\n')}\n\n${r.join('\n')}\n\n`
  }

  /** Cluster counters and gauges, read from the live stats at scrape time. */
  private clusterText(): string {
    const out: string[] = []
    for (const [name, stat, kind, help] of CLUSTER_METRICS) {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${kind}`)
      for (const [cluster, s] of this.store.clusterStats) {
        if (s[stat] !== 0) out.push(`${name}{cluster_name="${escapeLabel(cluster)}"} ${s[stat]}`)
      }
    }
    const ejected = 'minimesh_outlier_detection_ejections_active'
    out.push(`# HELP ${ejected} Hosts ejected now`, `# TYPE ${ejected} gauge`)
    for (const [name, c] of this.store.current.clusters) {
      const n = c.ejectedCount
      if (n > 0) out.push(`${ejected}{cluster_name="${escapeLabel(name)}"} ${n}`)
    }
    return `${out.join('\n')}\n`
  }

  async text(): Promise<string> {
    const extra = await Promise.all(this.sources.map((s) => s.metrics()))
    return this.requestText() + this.clusterText() + extra.join('')
  }
}
