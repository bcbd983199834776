import { describe, expect, it } from 'vitest'
import { type DebounceBatch, Debouncer } from './debounce.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('Debouncer', () => {
  it('merges a burst into one firing after the quiet time', async () => {
    const fired: DebounceBatch[] = []
    const d = new Debouncer({ quietMs: 60, maxMs: 10_000 }, (b) => fired.push(b))
    for (let i = 0; i < 10; i++) {
      d.trigger()
      await sleep(5)
    }
    expect(fired).toEqual([])
    await sleep(120)
    expect(fired.length).toBe(1)
    expect(fired[0]!.events).toBe(10)
    d.discard()
  })

  it('fires at the max delay while events keep coming', async () => {
    const fired: number[] = []
    const start = performance.now()
    const d = new Debouncer({ quietMs: 50, maxMs: 150 }, () => fired.push(performance.now() - start))
    const until = start + 400
    while (performance.now() < until) {
      d.trigger()
      await sleep(20)
    }
    d.discard()
    // Never 50 ms of quiet, so only the 150 ms ceiling fires: two or three times in 400 ms, not zero.
    expect(fired.length).toBeGreaterThanOrEqual(2)
    expect(fired[0]!).toBeGreaterThanOrEqual(140)
    expect(fired[0]!).toBeLessThan(260)
  })

  it('flush fires at once, and only when something is waiting', () => {
    let n = 0
    const d = new Debouncer({}, () => n++)
    d.flush()
    expect(n).toBe(0)
    d.trigger()
    expect(d.pending).toBe(true)
    d.flush()
    expect(n).toBe(1)
    expect(d.pending).toBe(false)
  })
  it('discard drops what is waiting without firing; a later trigger starts a new batch', async () => {
    const fired: DebounceBatch[] = []
    const d = new Debouncer({ quietMs: 20 }, (b) => fired.push(b))
    d.trigger()
    d.trigger()
    d.discard()
    expect(d.pending).toBe(false)
    await sleep(60)
    expect(fired).toEqual([])
    d.trigger()
    await sleep(60)
    expect(fired.map((b) => b.events)).toEqual([1])
  })
})
