// Outlier detection (Envoy/Istio semantics): a host is ejected after N consecutive 5xx
// responses (local connect failures and resets count as 503) or N consecutive gateway errors
// (502, 503, 504, local failures), for baseEjectionTime × its ejection count; at most
// maxEjectionPercent of the hosts are out at once (one always may be). An interval sweep
// returns hosts whose time is up; a host healthy for a whole ejection period since its return
// has its ejection count decremented.
import type { Cluster } from '@minimesh/api'
import type { Host } from './host.ts'

export type OutlierConfig = NonNullable<Cluster['outlierDetection']>

/** Envoy's default cap on one ejection (max_ejection_time). */
const MAX_EJECTION_MS = 300_000

/** A request's outcome as outlier detection sees it: a status code, or a local-origin failure. */
export type Outcome = number | 'local-failure'

export interface OutlierEvents {
  /** Called when the set of available hosts changes (the load balancer rebuilds). */
  changed(): void
  ejected(host: Host): void
}

export class OutlierDetector {
  private readonly cfg: OutlierConfig
  private readonly hosts: () => readonly Host[]
  private readonly events: OutlierEvents
  private readonly now: () => number
  private timer: NodeJS.Timeout | undefined

  constructor(
    cfg: OutlierConfig,
    hosts: () => readonly Host[],
    events: OutlierEvents,
    now: () => number = Date.now,
  ) {
    this.cfg = cfg
    this.hosts = hosts
    this.events = events
    this.now = now
    if (cfg.intervalMs > 0) {
      this.timer = setInterval(() => this.sweep(), cfg.intervalMs)
      this.timer.unref()
    }
  }

  record(host: Host, outcome: Outcome): void {
    const status = outcome === 'local-failure' ? 503 : outcome
    const is5xx = status >= 500
    const isGateway = outcome === 'local-failure' || status === 502 || status === 503 || status === 504
    if (is5xx) host.consecutive5xx++
    else host.consecutive5xx = 0
    if (isGateway) host.consecutiveGatewayErrors++
    else host.consecutiveGatewayErrors = 0
    if (host.ejected) return
    const c5 = this.cfg.consecutive5xx ?? 0
    const cg = this.cfg.consecutiveGatewayErrors ?? 0
    if ((c5 > 0 && host.consecutive5xx >= c5) || (cg > 0 && host.consecutiveGatewayErrors >= cg))
      this.tryEject(host)
  }

  private tryEject(host: Host): void {
    const hosts = this.hosts()
    let ejected = 0
    for (const h of hosts) if (h.ejected) ejected++
    if (ejected > 0 && (100 * ejected) / hosts.length >= this.cfg.maxEjectionPercent) return
    host.ejected = true
    host.ejectionCount++
    const duration = Math.min(
      this.cfg.baseEjectionTimeMs * host.ejectionCount,
      Math.max(MAX_EJECTION_MS, this.cfg.baseEjectionTimeMs),
    )
    host.ejectedUntil = this.now() + duration
    host.consecutive5xx = 0
    host.consecutiveGatewayErrors = 0
    this.events.ejected(host)
    this.events.changed()
  }

  /** The interval sweep: un-eject hosts whose time is up; decay ejection counts of healthy hosts. */
  sweep(): void {
    const now = this.now()
    let changed = false
    for (const h of this.hosts()) {
      if (h.ejected) {
        if (now >= h.ejectedUntil) {
          h.ejected = false
          h.consecutive5xx = 0
          h.consecutiveGatewayErrors = 0
          changed = true
        }
      } else if (
        h.ejectionCount > 0 &&
        now >= h.ejectedUntil + this.cfg.baseEjectionTimeMs * h.ejectionCount
      ) {
        // Healthy for a whole ejection period since it came back: the multiplier decays.
        h.ejectionCount--
        h.ejectedUntil = now
      }
    }
    if (changed) this.events.changed()
  }

  close(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }
}
