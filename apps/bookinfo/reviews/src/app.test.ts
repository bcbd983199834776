import type { IncomingHttpHeaders } from 'node:http'
import { listenApp, type StartedApp } from '@minimesh/bookinfo-common'
import { closedPort } from '@minimesh/bookinfo-common/testing'
import { buildRatingsApp, startRatings } from '@minimesh/bookinfo-ratings'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ReviewsOptions, startReviews } from './app.ts'
import type { ReviewsResponse } from './reviews.ts'

const opened: StartedApp[] = []
let ratings: StartedApp

async function reviews(options: ReviewsOptions): Promise<StartedApp> {
  const started = await startReviews({ port: 0, host: '127.0.0.1', podName: 'reviews-test-pod', ...options })
  opened.push(started)
  return started
}

async function get(app: StartedApp, path = '/reviews/0', headers: Record<string, string> = {}) {
  const res = await fetch(`${app.url}${path}`, { headers })
  return { status: res.status, body: (await res.json()) as ReviewsResponse }
}

beforeAll(async () => {
  ratings = await startRatings({ port: 0, host: '127.0.0.1' })
  opened.push(ratings)
})
afterAll(() => Promise.all(opened.map((s) => s.close())))

/** A ratings service that answers 3 s late, closed after the tests. */
async function startSlowRatings(): Promise<StartedApp> {
  const slow = await startRatings({
    port: 0,
    host: '127.0.0.1',
    version: 'v-delayed',
    delayMs: 3_000,
    random: () => 0,
  })
  opened.push(slow)
  return slow
}

describe('reviews versions against a real ratings service', () => {
  it('v1 answers two reviews without ratings', async () => {
    const v1 = await reviews({ ratingsEnabled: false, ratingsUrl: ratings.url })
    const { status, body } = await get(v1)
    expect(status).toBe(200)
    expect(body).toMatchObject({ id: '0', podname: 'reviews-test-pod', clustername: 'null' })
    expect(body.reviews.map((r) => r.reviewer)).toEqual(['Reviewer1', 'Reviewer2'])
    for (const review of body.reviews) {
      expect(review.text.length).toBeGreaterThan(10)
      expect(review).not.toHaveProperty('rating')
    }
  })

  it('v2 answers black stars from ratings', async () => {
    const v2 = await reviews({ ratingsEnabled: true, starColor: 'black', ratingsUrl: ratings.url })
    const { status, body } = await get(v2)
    expect(status).toBe(200)
    expect(body.reviews.map((r) => r.rating)).toEqual([
      { stars: 5, color: 'black' },
      { stars: 4, color: 'black' },
    ])
  })

  it('v3 answers red stars from ratings', async () => {
    const v3 = await reviews({ ratingsEnabled: true, starColor: 'red', ratingsUrl: ratings.url })
    const { body } = await get(v3)
    expect(body.reviews.map((r) => r.rating)).toEqual([
      { stars: 5, color: 'red' },
      { stars: 4, color: 'red' },
    ])
  })

  it('shows the stars ratings holds for the product asked about', async () => {
    const res = await fetch(`${ratings.url}/ratings/5`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ Reviewer1: 1 }),
    })
    expect(res.status).toBe(200)
    const v2 = await reviews({ ratingsEnabled: true, ratingsUrl: ratings.url })
    const { body } = await get(v2, '/reviews/5')
    expect(body.id).toBe('5')
    // Reviewer2 has no stars in what was posted: that review says ratings are unavailable.
    expect(body.reviews.map((r) => r.rating)).toEqual([
      { stars: 1, color: 'black' },
      { error: 'Ratings service is currently unavailable' },
    ])
  })

  it('reports the cluster name when it has one', async () => {
    const app = await reviews({ clusterName: 'east' })
    expect((await get(app)).body.clustername).toBe('east')
  })

  it('answers 400 on a non-numeric id, and says it is healthy', async () => {
    const app = await reviews({})
    const bad = await fetch(`${app.url}/reviews/abc`)
    expect(bad.status).toBe(400)
    expect(await bad.json()).toEqual({ error: 'please provide numeric product id' })
    const health = await fetch(`${app.url}/health`)
    expect(await health.json()).toEqual({ status: 'Reviews is healthy' })
  })
})

describe('reviews when ratings fail', () => {
  const unavailable = { error: 'Ratings service is currently unavailable' }

  it('ratings down: 200, and every review says ratings are unavailable', async () => {
    const app = await reviews({ ratingsEnabled: true, ratingsUrl: `http://127.0.0.1:${await closedPort()}` })
    const { status, body } = await get(app)
    expect(status).toBe(200)
    expect(body.reviews.map((r) => r.rating)).toEqual([unavailable, unavailable])
  })

  it('ratings answering 503 (v-unavailable): the same', async () => {
    const bad = await startRatings({ port: 0, host: '127.0.0.1', version: 'v-unavailable' })
    opened.push(bad)
    const app = await reviews({ ratingsEnabled: true, starColor: 'red', ratingsUrl: bad.url })
    const { status, body } = await get(app)
    expect(status).toBe(200)
    expect(body.reviews.map((r) => r.rating)).toEqual([unavailable, unavailable])
  })

  it('ratings slower than the timeout: gives up at the timeout', async () => {
    const slow = await startSlowRatings()
    const app = await reviews({ ratingsEnabled: true, ratingsUrl: slow.url, ratingsTimeoutMs: 200 })
    const t0 = performance.now()
    const { status, body } = await get(app)
    const took = performance.now() - t0
    expect(status).toBe(200)
    expect(body.reviews.map((r) => r.rating)).toEqual([unavailable, unavailable])
    expect(took).toBeGreaterThanOrEqual(195)
    expect(took).toBeLessThan(2_000)
  })

  it('v3 (red) waits 2.5 s for ratings and v2 (black) 10 s: a 3 s delay fails v3 only', async () => {
    const slow = await startSlowRatings()
    const v2 = await reviews({ ratingsEnabled: true, starColor: 'black', ratingsUrl: slow.url })
    const v3 = await reviews({ ratingsEnabled: true, starColor: 'red', ratingsUrl: slow.url })
    const t0 = performance.now()
    const [fromV2, fromV3] = await Promise.all([
      get(v2),
      get(v3).then((r) => ({ ...r, took: performance.now() - t0 })),
    ])
    expect(fromV3.body.reviews.map((r) => r.rating)).toEqual([unavailable, unavailable])
    expect(fromV3.took).toBeGreaterThanOrEqual(2_450)
    expect(fromV3.took).toBeLessThan(3_000)
    expect(fromV2.body.reviews.map((r) => r.rating)).toEqual([
      { stars: 5, color: 'black' },
      { stars: 4, color: 'black' },
    ])
  })
})

describe('header propagation to ratings', () => {
  it('forwards end-user, trace, cookie, authorization and user-agent headers, and nothing else', async () => {
    const seen: IncomingHttpHeaders[] = []
    const recording = buildRatingsApp()
    recording.addHook('onRequest', async (request) => {
      seen.push(request.headers)
    })
    const recorded = await listenApp(recording, { port: 0, host: '127.0.0.1' })
    opened.push(recorded)
    const app = await reviews({ ratingsEnabled: true, ratingsUrl: recorded.url })
    const sent = {
      'end-user': 'jason',
      'x-request-id': 'req-123',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'vendor=value',
      'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7',
      'x-b3-spanid': 'e457b5a2e4d86bd1',
      'x-b3-parentspanid': '05e3ac9a4f6e3b90',
      'x-b3-sampled': '1',
      'x-b3-flags': '0',
      b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1',
      cookie: 'session=abc',
      authorization: 'Bearer token',
      'user-agent': 'bookinfo-test/1',
    }
    const { body } = await get(app, '/reviews/0', { ...sent, 'x-not-propagated': 'secret' })
    expect(body.reviews[0]?.rating).toEqual({ stars: 5, color: 'black' })
    expect(seen).toHaveLength(1)
    expect(seen[0]).toMatchObject(sent)
    expect(seen[0]).not.toHaveProperty('x-not-propagated')
  })
})
