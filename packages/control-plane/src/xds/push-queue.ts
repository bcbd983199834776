/**
 * Runs pushes with bounded concurrency. An item added while waiting is not queued twice; an item
 * added while its push runs is run again afterwards (with the newest state), so the queue holds at
 * most one entry per proxy whatever the rate of changes.
 */
export class PushQueue<T> {
  private readonly limit: number
  private readonly run: (item: T) => Promise<void>
  private readonly waiting = new Set<T>()
  private readonly running = new Set<T>()
  private readonly started = new Set<T>()
  private readonly again = new Set<T>()
  private idleWaiters: (() => void)[] = []

  constructor(limit: number, run: (item: T) => Promise<void>) {
    this.limit = Math.max(1, limit)
    this.run = run
  }

  add(item: T): void {
    if (this.running.has(item)) {
      // Not started yet: it will read the newest state anyway.
      if (this.started.has(item)) this.again.add(item)
    } else this.waiting.add(item)
    this.pump()
  }

  delete(item: T): void {
    this.waiting.delete(item)
    this.again.delete(item)
  }

  get pending(): number {
    return this.waiting.size
  }

  get active(): number {
    return this.running.size
  }

  /** Resolves when nothing waits or runs. */
  idle(): Promise<void> {
    if (this.waiting.size === 0 && this.running.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private pump(): void {
    while (this.running.size < this.limit && this.waiting.size > 0) {
      const item = this.waiting.values().next().value as T
      this.waiting.delete(item)
      this.running.add(item)
      // Start on a later tick so a burst of adds is coalesced and I/O gets its turn.
      setImmediate(() => {
        this.started.add(item)
        this.run(item)
          .catch(() => {})
          .finally(() => {
            this.running.delete(item)
            this.started.delete(item)
            if (this.again.delete(item)) this.waiting.add(item)
            this.pump()
            if (this.waiting.size === 0 && this.running.size === 0) {
              const waiters = this.idleWaiters
              this.idleWaiters = []
              for (const w of waiters) w()
            }
          })
      })
    }
  }
}
