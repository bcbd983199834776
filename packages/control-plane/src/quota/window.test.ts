import { describe, expect, it } from 'vitest'
import { MemoryQuotaBackend } from './memory.ts'
import { RollingWindow } from './window.ts'

function clock(start = 1_000_000) {
  let t = start
  return { now: () => t, advance: (ms: number) => (t += ms) }
}

const base = { quota: 'default/requestcount', dimensions: { destination: 'ratings' }, amount: 1 }

describe('RollingWindow', () => {
  it('counts only the slots that overlap the window', () => {
    const w = new RollingWindow(1000)
    w.add(0, 3)
    w.add(550, 2)
    expect(w.used(999)).toBe(5)
    expect(w.used(1000)).toBe(2) // slot 0 (0–99 ms) has left the 1 s window
    expect(w.used(1599)).toBe(0)
  })
  it('reuses ring slots without leaking old counts', () => {
    const w = new RollingWindow(300)
    w.add(0, 1)
    w.add(300, 7) // same ring index as slot 0, a new slot
    expect(w.used(300)).toBe(7)
  })
})

describe('MemoryQuotaBackend', () => {
  it('admits maxAmount per rolling window, then refuses until slots expire', () => {
    const c = clock()
    const q = new MemoryQuotaBackend({ now: c.now })
    const ask = () => q.allocateSync({ ...base, maxAmount: 5, validDurationMs: 1000 }).grantedAmount
    const first = Array.from({ length: 8 }, ask)
    expect(first).toEqual([1, 1, 1, 1, 1, 0, 0, 0])
    c.advance(900)
    expect(ask()).toBe(0) // still inside the window
    c.advance(100)
    expect(ask()).toBe(1) // the first slot left the window
  })

  it('over 5 s of steady load admits the allowance within one slot at each edge', () => {
    const c = clock(0)
    const q = new MemoryQuotaBackend({ now: c.now })
    let admitted = 0
    for (let t = 0; t < 5000; t += 5) {
      admitted += q.allocateSync({ ...base, maxAmount: 20, validDurationMs: 1000 }).grantedAmount
      c.advance(5)
    }
    expect(admitted).toBe(100) // 20 per second for 5 s; requests every 5 ms align with the slots
  })

  it('keeps separate counters per dimension values', () => {
    const q = new MemoryQuotaBackend({ now: clock().now })
    const a = q.allocateSync({
      ...base,
      dimensions: { destination: 'ratings' },
      maxAmount: 1,
      validDurationMs: 1000,
    })
    const b = q.allocateSync({
      ...base,
      dimensions: { destination: 'reviews' },
      maxAmount: 1,
      validDurationMs: 1000,
    })
    const c2 = q.allocateSync({
      ...base,
      dimensions: { destination: 'ratings' },
      maxAmount: 1,
      validDurationMs: 1000,
    })
    expect([a.grantedAmount, b.grantedAmount, c2.grantedAmount]).toEqual([1, 1, 0])
  })

  it('allocation quota (validDuration 0) holds until released', async () => {
    const c = clock()
    const q = new MemoryQuotaBackend({ now: c.now })
    const ask = () => q.allocateSync({ ...base, maxAmount: 2, validDurationMs: 0 }).grantedAmount
    expect([ask(), ask(), ask()]).toEqual([1, 1, 0])
    c.advance(60_000)
    expect(ask()).toBe(0)
    expect(await q.release(base.quota, base.dimensions, 1)).toBe(1)
    expect(ask()).toBe(1)
  })

  it('a dedup id replays the first answer and is not counted twice', () => {
    const c = clock()
    const q = new MemoryQuotaBackend({ now: c.now, dedupTtlMs: 1000 })
    const args = { ...base, maxAmount: 1, validDurationMs: 10_000, dedupId: 'req-1' }
    expect(q.allocateSync(args).grantedAmount).toBe(1)
    expect(q.allocateSync(args).grantedAmount).toBe(1)
    expect(q.allocateSync({ ...args, dedupId: 'req-2' }).grantedAmount).toBe(0)
    c.advance(2000)
    expect(q.allocateSync(args).grantedAmount).toBe(0) // dedup entry expired: counted anew, refused
  })

  it('best effort grants what is left', () => {
    const q = new MemoryQuotaBackend({ now: clock().now })
    expect(q.allocateSync({ ...base, amount: 3, maxAmount: 5, validDurationMs: 1000 }).grantedAmount).toBe(3)
    expect(q.allocateSync({ ...base, amount: 3, maxAmount: 5, validDurationMs: 1000 }).grantedAmount).toBe(0)
    expect(
      q.allocateSync({ ...base, amount: 3, maxAmount: 5, validDurationMs: 1000, bestEffort: true })
        .grantedAmount,
    ).toBe(2)
  })
})
