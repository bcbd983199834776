import type { StartedApp } from '@minimesh/bookinfo-common'
import { binomialAcceptance } from '@minimesh/bookinfo-common/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { startRatings } from './app.ts'
import { behaviourFor, parseServiceVersion } from './variants.ts'

// Statistical test for the random variants: n = 200 requests; under H0 "the fault rate is 0.5" the
// count of faults is Binomial(200, 0.5). An equal-tailed exact test at significance 0.001 accepts
// counts in [77, 123]; a correct service fails this test once in a thousand runs.
const N = 200
const ALPHA = 0.001
const BOUND = binomialAcceptance(N, 0.5, ALPHA)

let started: StartedApp | undefined
afterEach(async () => {
  await started?.close()
  started = undefined
})

describe('the binomial bound used here', () => {
  it('is [77, 123] for n=200, p=0.5, alpha=0.001', () => {
    expect(BOUND).toEqual({ low: 77, high: 123 })
    expect(binomialAcceptance(10, 0.5, 0.05)).toEqual({ low: 2, high: 8 })
  })
})

describe('behaviourFor', () => {
  it('follows the random draw at the 0.5 threshold', () => {
    expect(behaviourFor('v-faulty', () => 0.49).kind).toBe('unavailable')
    expect(behaviourFor('v-faulty', () => 0.5).kind).toBe('answer')
    expect(behaviourFor('v-delayed', () => 0.1).kind).toBe('delay')
    expect(behaviourFor('v-delayed', () => 0.9).kind).toBe('answer')
    expect(behaviourFor('v1', () => 0).kind).toBe('answer')
    expect(behaviourFor('v-unavailable', () => 0.99).kind).toBe('unavailable')
  })

  it('rejects an unknown SERVICE_VERSION', () => {
    expect(parseServiceVersion(undefined)).toBe('v1')
    expect(parseServiceVersion('v-faulty')).toBe('v-faulty')
    expect(() => parseServiceVersion('v2')).toThrow(/SERVICE_VERSION=v2 is not one of v1, v-faulty/)
  })
})

describe('ratings variants over HTTP', () => {
  it(`v-faulty answers 503 to about half of ${N} requests (within [${BOUND.low}, ${BOUND.high}])`, async () => {
    started = await startRatings({ port: 0, host: '127.0.0.1', version: 'v-faulty' })
    const statuses = await Promise.all(
      Array.from({ length: N }, async () => {
        const res = await fetch(`${started!.url}/ratings/0`)
        const body = (await res.json()) as unknown
        if (res.status === 503) expect(body).toEqual({ error: 'Service unavailable' })
        else expect(body).toEqual({ id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } })
        return res.status
      }),
    )
    expect(new Set(statuses)).toEqual(new Set([200, 503]))
    const faults = statuses.filter((s) => s === 503).length
    expect(faults).toBeGreaterThanOrEqual(BOUND.low)
    expect(faults).toBeLessThanOrEqual(BOUND.high)
  })

  it(`v-delayed delays about half of ${N} requests (within [${BOUND.low}, ${BOUND.high}])`, async () => {
    // A delayed answer takes 100 ms, an undelayed one a few ms on loopback: 80 ms tells them apart
    // with room for a slow machine. Ten clients of 20 sequential requests each keep it near 1 s.
    const delayMs = 100
    started = await startRatings({ port: 0, host: '127.0.0.1', version: 'v-delayed', delayMs })
    let delayed = 0
    const client = async () => {
      for (let i = 0; i < N / 10; i++) {
        const t0 = performance.now()
        const res = await fetch(`${started!.url}/ratings/0`)
        expect(await res.json()).toEqual({ id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } })
        if (performance.now() - t0 >= 80) delayed++
      }
    }
    await Promise.all(Array.from({ length: 10 }, client))
    expect(delayed).toBeGreaterThanOrEqual(BOUND.low)
    expect(delayed).toBeLessThanOrEqual(BOUND.high)
  })

  it('v-delayed holds a delayed answer for the configured delay', async () => {
    started = await startRatings({
      port: 0,
      host: '127.0.0.1',
      version: 'v-delayed',
      delayMs: 300,
      random: () => 0,
    })
    const t0 = performance.now()
    const res = await fetch(`${started.url}/ratings/0`)
    expect(res.status).toBe(200)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(295)
  })

  it('v-unavailable answers 503 every time', async () => {
    started = await startRatings({ port: 0, host: '127.0.0.1', version: 'v-unavailable' })
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${started.url}/ratings/0`)
      expect(res.status).toBe(503)
      expect(await res.json()).toEqual({ error: 'Service unavailable' })
    }
  })

  it('v-unavailable still answers its health check and a bad id', async () => {
    started = await startRatings({ port: 0, host: '127.0.0.1', version: 'v-unavailable' })
    expect((await fetch(`${started.url}/health`)).status).toBe(200)
    expect((await fetch(`${started.url}/ratings/zero`)).status).toBe(400)
  })
})
