import { describe, expect, it } from 'vitest'
import { binomialTestPValue } from './binomial.ts'

describe('binomialTestPValue', () => {
  it('matches known values', () => {
    // 9 successes of 10 at p = 0.5: P(X<=1 or X>=9) = 22/1024
    expect(binomialTestPValue(9, 10, 0.5)).toBeCloseTo(22 / 1024, 10)
    expect(binomialTestPValue(5, 10, 0.5)).toBeCloseTo(1, 10)
  })
  it('accepts a fair 90/10 draw and rejects it as 50/50', () => {
    expect(binomialTestPValue(95, 1000, 0.1)).toBeGreaterThan(0.001)
    expect(binomialTestPValue(95, 1000, 0.5)).toBeLessThan(1e-100)
  })
})
