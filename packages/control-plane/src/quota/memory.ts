import {
  type AllocateArgs,
  type AllocateResult,
  counterKey,
  DEDUP_TTL_MS,
  grantFrom,
  type QuotaBackend,
} from './backend.ts'
import { RollingWindow } from './window.ts'

export interface MemoryBackendOptions {
  /** Clock in milliseconds; tests pass a controllable one. */
  now?: () => number
  dedupTtlMs?: number
}

/** The default backend: counters in this meshd's memory (one replica, or one quota owner). */
export class MemoryQuotaBackend implements QuotaBackend {
  readonly name = 'memory'
  private readonly now: () => number
  private readonly dedupTtlMs: number
  private readonly windows = new Map<string, RollingWindow>()
  private readonly allocations = new Map<string, number>()
  private readonly dedup = new Map<string, { result: AllocateResult; expires: number }>()
  private lastSweep = 0

  constructor(options: MemoryBackendOptions = {}) {
    this.now = options.now ?? Date.now
    this.dedupTtlMs = options.dedupTtlMs ?? DEDUP_TTL_MS
  }

  async allocate(args: AllocateArgs): Promise<AllocateResult> {
    return this.allocateSync(args)
  }

  /** Synchronous core (the gRPC handler and the benchmark call it directly). */
  allocateSync(args: AllocateArgs): AllocateResult {
    const now = this.now()
    this.sweep(now)
    if (args.dedupId) {
      const seen = this.dedup.get(args.dedupId)
      if (seen && seen.expires > now) return seen.result
    }
    const key = counterKey(args.quota, args.dimensions)
    let granted: number
    if (args.validDurationMs <= 0) {
      const used = this.allocations.get(key) ?? 0
      granted = grantFrom(args.maxAmount - used, args.amount, args.bestEffort)
      if (granted > 0) this.allocations.set(key, used + granted)
    } else {
      let w = this.windows.get(key)
      if (!w || w.windowMs !== args.validDurationMs) {
        w = new RollingWindow(args.validDurationMs)
        this.windows.set(key, w)
      }
      granted = grantFrom(args.maxAmount - w.used(now), args.amount, args.bestEffort)
      if (granted > 0) w.add(now, granted)
    }
    const result = { grantedAmount: granted, validDurationMs: args.validDurationMs }
    if (args.dedupId) this.dedup.set(args.dedupId, { result, expires: now + this.dedupTtlMs })
    return result
  }

  async release(
    quota: string,
    dimensions: Readonly<Record<string, string>>,
    amount: number,
  ): Promise<number> {
    const key = counterKey(quota, dimensions)
    const used = this.allocations.get(key) ?? 0
    const released = Math.min(used, amount)
    if (used - released > 0) this.allocations.set(key, used - released)
    else this.allocations.delete(key)
    return released
  }

  /** Drops expired dedup entries and idle windows, at most once a second. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 1000) return
    this.lastSweep = now
    for (const [id, e] of this.dedup) if (e.expires <= now) this.dedup.delete(id)
    for (const [key, w] of this.windows) if (w.idle(now)) this.windows.delete(key)
  }

  async close(): Promise<void> {
    this.windows.clear()
    this.allocations.clear()
    this.dedup.clear()
  }
}
