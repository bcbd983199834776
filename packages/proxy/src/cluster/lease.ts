// The one way a request, an upgrade or a TCP connection takes a place in a cluster's connection
// pool (Envoy's circuit breakers): a slot now if one is free; else a wait in the cluster's pending
// queue, up to maxPendingRequests; beyond that overflow (503 / flag UO, counted in
// upstream_rq_pending_overflow). A lease counts the host's active requests (least-request load
// balancing) and gives everything back exactly once, feeding the outcome to outlier detection.
import type { PendingTicket } from './circuit-breaker.ts'
import type { ClusterRuntime } from './cluster.ts'
import type { Host } from './host.ts'
import type { Outcome } from './outlier.ts'

/** Who waits for a slot (an object, so that taking a free slot at once makes no closure). */
export interface LeaseWaiter {
  granted(lease: Lease): void
}

export class Lease {
  readonly cluster: ClusterRuntime
  readonly host: Host
  private released = false

  /** Holds a slot already taken from the cluster's breaker. */
  private constructor(cluster: ClusterRuntime, host: Host) {
    this.cluster = cluster
    this.host = host
    host.active++
    host.lastUsed = Date.now()
  }

  get active(): boolean {
    return !this.released
  }

  /** Gives the slot back (once; later calls do nothing) and records the outcome, when there is one. */
  release(outcome?: Outcome): void {
    if (this.released) return
    this.released = true
    this.host.active--
    this.cluster.breaker.release()
    if (outcome !== undefined) this.cluster.record(this.host, outcome)
  }

  /** A slot now, or none (no waiting, nothing counted): for work that is dropped when full (mirroring). */
  static tryTake(cluster: ClusterRuntime, host: Host): Lease | undefined {
    return cluster.breaker.tryAcquire() ? new Lease(cluster, host) : undefined
  }

  /**
   * A slot now (returned), or later (`waiter.granted` is called; the returned ticket cancels the
   * wait), or never: undefined is overflow, already counted; the caller answers it (503 UO).
   */
  static acquire(
    cluster: ClusterRuntime,
    host: Host,
    waiter: LeaseWaiter,
  ): Lease | PendingTicket | undefined {
    if (cluster.breaker.tryAcquire()) return new Lease(cluster, host)
    const ticket = cluster.breaker.enqueue(() => waiter.granted(new Lease(cluster, host)))
    if (!ticket) cluster.stats.upstream_rq_pending_overflow++
    return ticket
  }
}

/** The body of an overflow reply (Envoy's wording). */
export const OVERFLOW_REASON =
  'upstream connect error or disconnect/reset before headers. reset reason: overflow'
