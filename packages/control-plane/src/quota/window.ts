import { SLOT_MS } from './backend.ts'

/**
 * A rolling window counter made of fixed slots (100 ms by default): what was granted in the slots
 * that overlap the last `windowMs` counts against the limit. Admissions over any window of that
 * length therefore stay within the limit, give or take one slot at each edge.
 */
export class RollingWindow {
  readonly windowMs: number
  readonly slotMs: number
  private readonly ids: number[]
  private readonly counts: number[]

  constructor(windowMs: number, slotMs = SLOT_MS) {
    this.windowMs = windowMs
    this.slotMs = slotMs
    const n = Math.max(1, Math.ceil(windowMs / slotMs))
    this.ids = new Array<number>(n).fill(-1)
    this.counts = new Array<number>(n).fill(0)
  }

  /** Total counted in the window that ends at `now`. */
  used(now: number): number {
    const slot = Math.floor(now / this.slotMs)
    const oldest = slot - this.ids.length + 1
    let sum = 0
    for (let i = 0; i < this.ids.length; i++) if (this.ids[i]! >= oldest) sum += this.counts[i]!
    return sum
  }

  add(now: number, amount: number): void {
    const slot = Math.floor(now / this.slotMs)
    const i = slot % this.ids.length
    if (this.ids[i] !== slot) {
      this.ids[i] = slot
      this.counts[i] = 0
    }
    this.counts[i]! += amount
  }

  /** True when nothing in the window at `now` is counted (the counter can be dropped). */
  idle(now: number): boolean {
    return this.used(now) === 0
  }
}
