// Cluster-wide connection-pool limits (Istio connectionPool → Envoy circuit breakers). With
// HTTP/1.1 one request holds one connection, so at most min(maxConnections, maxRequests)
// requests are in flight; the next ones wait (pending) up to maxPendingRequests; beyond that the
// request is answered 503 with flag UO at once. Retries have their own budget (maxRetries).

export interface BreakerLimits {
  maxActive: number
  maxPending: number
  maxRetries: number
}

/** A queued request; `cancel()` drops it from the queue (downstream gone, route timeout). */
export interface PendingTicket {
  cancel(): void
}

interface Waiter {
  grant: () => void
  cancelled: boolean
}

export class CircuitBreaker {
  readonly limits: BreakerLimits
  active = 0
  retries = 0
  private readonly queue: Waiter[] = []
  private head = 0
  /** Requests turned away (pending overflow) and retries refused (retry overflow). */
  pendingOverflow = 0
  retryOverflow = 0

  constructor(limits: BreakerLimits) {
    this.limits = limits
  }

  /** Requests waiting for a slot. */
  pending = 0

  /** Takes a slot now if one is free. */
  tryAcquire(): boolean {
    if (this.active < this.limits.maxActive && this.head === this.queue.length) {
      this.active++
      return true
    }
    return false
  }

  /**
   * Waits for a slot: `grant` runs once one is free (the slot is then held). Returns undefined
   * on overflow (the caller answers 503 UO).
   */
  enqueue(grant: () => void): PendingTicket | undefined {
    if (this.pending >= this.limits.maxPending) {
      this.pendingOverflow++
      return undefined
    }
    const w: Waiter = { grant, cancelled: false }
    this.queue.push(w)
    this.pending++
    return {
      cancel: () => {
        if (w.cancelled) return
        w.cancelled = true
        this.pending--
      },
    }
  }

  release(): void {
    this.active--
    while (this.head < this.queue.length && this.active < this.limits.maxActive) {
      const w = this.queue[this.head++]!
      if (w.cancelled) continue
      w.cancelled = true
      this.pending--
      this.active++
      w.grant()
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0
      this.head = 0
    } else if (this.head > 1024) {
      this.queue.splice(0, this.head)
      this.head = 0
    }
  }

  /** Takes a retry from the budget; false = retry overflow (no retry). */
  tryRetry(): boolean {
    if (this.retries >= this.limits.maxRetries) {
      this.retryOverflow++
      return false
    }
    this.retries++
    return true
  }

  retryDone(): void {
    this.retries--
  }
}
