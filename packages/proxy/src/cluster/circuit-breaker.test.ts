import { describe, expect, it } from 'vitest'
import { CircuitBreaker } from './circuit-breaker.ts'

describe('CircuitBreaker', () => {
  it('holds maxActive, queues maxPending, refuses the rest', () => {
    const b = new CircuitBreaker({ maxActive: 1, maxPending: 1, maxRetries: 1 })
    expect(b.tryAcquire()).toBe(true)
    expect(b.tryAcquire()).toBe(false)
    const granted: string[] = []
    expect(b.enqueue(() => granted.push('a'))).toBeDefined()
    expect(b.enqueue(() => granted.push('b'))).toBeUndefined()
    expect(b.pendingOverflow).toBe(1)
    b.release()
    expect(granted).toEqual(['a'])
    expect(b.active).toBe(1)
    expect(b.pending).toBe(0)
  })

  it('skips cancelled waiters and budgets retries', () => {
    const b = new CircuitBreaker({ maxActive: 1, maxPending: 5, maxRetries: 1 })
    b.tryAcquire()
    const got: number[] = []
    const t1 = b.enqueue(() => got.push(1))!
    b.enqueue(() => got.push(2))
    t1.cancel()
    expect(b.pending).toBe(1)
    b.release()
    expect(got).toEqual([2])
    expect(b.tryRetry()).toBe(true)
    expect(b.tryRetry()).toBe(false)
    b.retryDone()
    expect(b.tryRetry()).toBe(true)
  })
})
