export interface DebounceOptions {
  /** Fire once nothing has happened for this long. Default 100 ms. */
  quietMs?: number
  /** …but never later than this after the first event of a burst. Default 10 s. */
  maxMs?: number
}

/** What a firing covers: when its first event came and how many events it merged. */
export interface DebounceBatch {
  firstAt: number
  lastAt: number
  events: number
}

/**
 * Merges bursts of configuration events into one rebuild: fires `quietMs` after the last event,
 * or `maxMs` after the first when events keep coming (Istio's PILOT_DEBOUNCE_AFTER/MAX).
 */
export class Debouncer {
  private readonly quietMs: number
  private readonly maxMs: number
  private readonly fire: (batch: DebounceBatch) => void
  private batch?: DebounceBatch
  private timer?: NodeJS.Timeout

  constructor(options: DebounceOptions, fire: (batch: DebounceBatch) => void) {
    this.quietMs = options.quietMs ?? 100
    this.maxMs = options.maxMs ?? 10_000
    this.fire = fire
  }

  trigger(now = performance.now()): void {
    if (!this.batch) this.batch = { firstAt: now, lastAt: now, events: 0 }
    this.batch.lastAt = now
    this.batch.events++
    clearTimeout(this.timer)
    const wait = Math.max(0, Math.min(this.quietMs, this.batch.firstAt + this.maxMs - now))
    this.timer = setTimeout(() => this.flush(), wait)
  }

  /** Fires now if events are waiting. */
  flush(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    const batch = this.batch
    this.batch = undefined
    if (batch) this.fire(batch)
  }

  get pending(): boolean {
    return this.batch !== undefined
  }

  /** Drops the events waiting, without firing (a flush that throws them away); triggers later start afresh. */
  discard(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.batch = undefined
  }
}
