import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { resolveNativeSidecars, supportsNativeSidecars } from './sidecars.ts'

describe('native sidecars from the API server version', () => {
  it('on from 1.33 (GA), vendor minors like "33+" too; off before and when unknown', () => {
    expect(supportsNativeSidecars({ major: '1', minor: '34' })).toBe(true)
    expect(supportsNativeSidecars({ major: '1', minor: '33+' })).toBe(true)
    expect(supportsNativeSidecars({ major: '2', minor: '0' })).toBe(true)
    expect(supportsNativeSidecars({ major: '1', minor: '32' })).toBe(false)
    expect(supportsNativeSidecars({ major: '1', minor: '' })).toBe(false)
    expect(supportsNativeSidecars({})).toBe(false)
  })

  it('an explicit setting wins; auto without a cluster is classic', async () => {
    const log = pino({ level: 'silent' })
    expect(await resolveNativeSidecars(true, undefined, log)).toBe(true)
    expect(await resolveNativeSidecars(false, undefined, log)).toBe(false)
    expect(await resolveNativeSidecars('auto', undefined, log)).toBe(false)
  })
})
