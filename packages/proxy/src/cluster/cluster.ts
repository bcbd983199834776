// A cluster at run time: its hosts (from EDS, an inline STATIC assignment, or, for ORIGINAL_DST,
// made per destination), load balancer, outlier detector, circuit breaker and counters. It
// outlives configuration swaps while its definition is unchanged, so pools and ejections persist.
import type { Cluster, ClusterLoadAssignment, LbEndpoint } from '@minimesh/api'
import type { CertificateStore } from '../identity/certificates.ts'
import { CircuitBreaker } from './circuit-breaker.ts'
import { Host, hostKey, type PoolSettings } from './host.ts'
import { type LoadBalancer, makeLoadBalancer } from './lb.ts'
import { meshTlsPolicy } from './mesh-tls.ts'
import { type Outcome, OutlierDetector } from './outlier.ts'
import type { UpstreamTls } from './tls.ts'

export interface ClusterStats {
  upstream_cx_total: number
  upstream_cx_active: number
  upstream_cx_connect_fail: number
  upstream_rq_total: number
  upstream_rq_pending_overflow: number
  upstream_rq_retry: number
  upstream_rq_retry_overflow: number
  upstream_rq_timeout: number
  outlier_detection_ejections_total: number
  /** Requests (and TCP connections) that wanted mesh mTLS but went plaintext: no certificate yet. */
  upstream_rq_mtls_no_certificate: number
}

export function newClusterStats(): ClusterStats {
  return {
    upstream_cx_total: 0,
    upstream_cx_active: 0,
    upstream_cx_connect_fail: 0,
    upstream_rq_total: 0,
    upstream_rq_pending_overflow: 0,
    upstream_rq_retry: 0,
    upstream_rq_retry_overflow: 0,
    upstream_rq_timeout: 0,
    outlier_detection_ejections_total: 0,
    upstream_rq_mtls_no_certificate: 0,
  }
}

const DEFAULT_IDLE_MS = 60_000
const ORIGINAL_DST_SWEEP_MS = 30_000

export class ClusterRuntime {
  readonly config: Cluster
  readonly name: string
  readonly breaker: CircuitBreaker
  /** Counters, shared with later runtimes of the same name so they never go backwards. */
  readonly stats: ClusterStats
  /** Every host (any health); ORIGINAL_DST clusters add hosts per destination. */
  hosts: Host[] = []
  /** Hosts the load balancer may pick; recomputed when health or ejections change. */
  private available: Host[] = []
  /** Bumped whenever `available` changes (ring rebuilds). */
  private generation = 0
  private readonly byKey = new Map<string, Host>()
  private readonly lb: LoadBalancer
  private readonly outlier: OutlierDetector | undefined
  private readonly poolSettings: PoolSettings
  private sweepTimer: NodeJS.Timeout | undefined
  /** The JSON this runtime was built from; an identical update keeps it. */
  readonly fingerprint: string
  /** TLS origination (files read when the configuration was applied); undefined = plaintext. */
  readonly tls: UpstreamTls | undefined

  constructor(
    config: Cluster,
    stats: ClusterStats = newClusterStats(),
    tls?: UpstreamTls,
    certs?: CertificateStore,
  ) {
    this.config = config
    this.stats = stats
    this.tls = tls
    this.name = config.name
    this.fingerprint = JSON.stringify(config)
    const cb = config.circuitBreakers
    this.breaker = new CircuitBreaker({
      maxActive: Math.min(cb?.maxConnections ?? Infinity, cb?.maxRequests ?? Infinity),
      maxPending: cb?.maxPendingRequests ?? Infinity,
      maxRetries: cb?.maxRetries ?? Infinity,
    })
    this.poolSettings = {
      connectTimeoutMs: config.connectTimeoutMs || 10_000,
      idleTimeoutMs: config.idleTimeoutMs || DEFAULT_IDLE_MS,
      maxConnections: cb?.maxConnections,
      maxRequestsPerConnection: cb?.maxRequestsPerConnection || undefined,
      http2: config.protocol === 'http2',
      onConnect: () => {
        stats.upstream_cx_total++
        stats.upstream_cx_active++
      },
      onDisconnect: () => {
        stats.upstream_cx_active--
      },
      onConnectFail: () => {
        stats.upstream_cx_connect_fail++
      },
      tls,
      mesh:
        certs && meshTlsPolicy(config) !== 'off'
          ? {
              policy: meshTlsPolicy(config),
              certs,
              cluster: config,
              onNoCertificate: () => {
                stats.upstream_rq_mtls_no_certificate++
              },
            }
          : undefined,
    }
    this.lb = makeLoadBalancer(config.lbPolicy)
    if (config.outlierDetection) {
      this.outlier = new OutlierDetector(config.outlierDetection, () => this.hosts, {
        changed: () => this.recompute(),
        ejected: () => {
          stats.outlier_detection_ejections_total++
        },
      })
    }
    if (config.type === 'STATIC' && config.loadAssignment) this.setEndpoints(config.loadAssignment.endpoints)
    if (config.type === 'ORIGINAL_DST') {
      this.sweepTimer = setInterval(() => this.sweepIdle(), ORIGINAL_DST_SWEEP_MS)
      this.sweepTimer.unref()
    }
  }

  get ejectedCount(): number {
    let n = 0
    for (const h of this.hosts) if (h.ejected) n++
    return n
  }

  /** Replaces the endpoint set; hosts that stay keep their pools and outlier state. */
  setEndpoints(endpoints: readonly LbEndpoint[]): void {
    const next: Host[] = []
    const seen = new Set<string>()
    for (const ep of endpoints) {
      const key = hostKey(ep.address, ep.port)
      if (seen.has(key)) continue
      seen.add(key)
      let h = this.byKey.get(key)
      if (h) h.endpoint = ep
      else {
        h = new Host(ep, this.poolSettings)
        this.byKey.set(key, h)
      }
      next.push(h)
    }
    for (const [key, h] of this.byKey) {
      if (!seen.has(key)) {
        this.byKey.delete(key)
        void h.close()
      }
    }
    this.hosts = next
    this.recompute()
  }

  applyAssignment(cla: ClusterLoadAssignment | undefined): void {
    if (this.config.type === 'EDS') this.setEndpoints(cla?.endpoints ?? [])
  }

  private recompute(): void {
    const avail = this.hosts.filter((h) => h.available)
    const minHealth = this.config.outlierDetection?.minHealthPercent ?? 0
    // Panic mode (Envoy's healthy_panic_threshold): too few available hosts, use them all.
    const healthy = this.hosts.filter((h) => h.healthy)
    this.available =
      minHealth > 0 && healthy.length > 0 && (100 * avail.length) / healthy.length < minHealth
        ? healthy
        : avail
    this.generation++
  }

  /**
   * Chooses a host for a request. ORIGINAL_DST clusters use the connection's original
   * destination. Undefined = no healthy upstream.
   */
  choose(
    hash: number | undefined,
    original?: { address: string; port: number },
    avoid?: ReadonlySet<Host>,
  ): Host | undefined {
    if (this.config.type === 'ORIGINAL_DST')
      return original ? this.originalHost(original.address, original.port) : undefined
    const avail = this.available
    if (avail.length === 0) return undefined
    return this.lb.pick(avail, this.generation, hash, avoid)
  }

  private originalHost(address: string, port: number): Host {
    const key = hostKey(address, port)
    let h = this.byKey.get(key)
    if (!h) {
      h = new Host({ address, port, health: 'HEALTHY' }, this.poolSettings)
      this.byKey.set(key, h)
      this.hosts.push(h)
    }
    return h
  }

  private sweepIdle(): void {
    const cutoff = Date.now() - ORIGINAL_DST_SWEEP_MS
    for (const [key, h] of this.byKey) {
      if (h.active === 0 && h.lastUsed < cutoff) {
        this.byKey.delete(key)
        void h.close()
      }
    }
    this.hosts = [...this.byKey.values()]
  }

  /** Feeds a finished request's outcome to outlier detection. */
  record(host: Host, outcome: Outcome): void {
    host.requests++
    if (outcome === 'local-failure' || outcome >= 500) host.errors++
    this.outlier?.record(host, outcome)
  }

  /** Stops timers and closes pools after in-flight requests finish. */
  async close(): Promise<void> {
    this.outlier?.close()
    if (this.sweepTimer) clearInterval(this.sweepTimer)
    await Promise.all(this.hosts.map((h) => h.close()))
  }

  async destroy(): Promise<void> {
    this.outlier?.close()
    if (this.sweepTimer) clearInterval(this.sweepTimer)
    await Promise.all([...this.byKey.values()].map((h) => h.destroy()))
  }
}
