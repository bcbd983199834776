import { describe, expect, it } from 'vitest'
import { DURATION_PATTERN, durationMs, parseDuration } from './duration.ts'

describe('parseDuration', () => {
  it.each([
    ['7s', 7000],
    ['0.5s', 500],
    ['100ms', 100],
    ['1m', 60_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['2m0.5s', 120_500],
    ['250us', 0.25],
    ['250µs', 0.25],
    ['1000000ns', 1],
    ['0s', 0],
    ['0', 0],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
    expect(new RegExp(DURATION_PATTERN).test(text)).toBe(true)
  })

  it.each(['', '7', '-1s', '1.s', '.5s', '1d', '1 s', 's', '1s ', '1sm', '0x10s', '1e3ms', '00'])(
    '%j is not a duration',
    (text) => {
      expect(parseDuration(text)).toBeUndefined()
      // The CRD's pattern agrees with the parser on what a duration is.
      expect(new RegExp(DURATION_PATTERN).test(text)).toBe(false)
    },
  )

  it('durationMs throws on text that is not a duration', () => {
    expect(durationMs('3m')).toBe(180_000)
    expect(() => durationMs('3 minutes')).toThrow(/not a duration/)
  })
})
