// productpage against real details, reviews and ratings servers on loopback: no stand-ins.
import type { IncomingHttpHeaders } from 'node:http'
import { listenApp, type StartedApp } from '@minimesh/bookinfo-common'
import { closedPort } from '@minimesh/bookinfo-common/testing'
import { buildDetailsApp } from '@minimesh/bookinfo-details'
import { buildRatingsApp, type RatingsOptions } from '@minimesh/bookinfo-ratings'
import { buildReviewsApp, type ReviewsOptions } from '@minimesh/bookinfo-reviews'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ProductpageOptions, startProductpage } from './app.ts'

const opened: StartedApp[] = []
afterAll(() => Promise.all(opened.map((s) => s.close())))

/** A real service that records the headers of every request; `fail(n)` makes request n answer 503. */
interface Recorded extends StartedApp {
  readonly seen: IncomingHttpHeaders[]
}
async function serve(app: FastifyInstance, fail?: (n: number) => boolean): Promise<Recorded> {
  const seen: IncomingHttpHeaders[] = []
  app.addHook('onRequest', async (request, reply) => {
    seen.push(request.headers)
    if (fail?.(seen.length)) await reply.code(503).send({ error: 'failed on purpose by the test' })
  })
  const started = await listenApp(app, { port: 0, host: '127.0.0.1' })
  opened.push(started)
  return { ...started, seen }
}
const ratingsServer = (o: RatingsOptions = {}) => serve(buildRatingsApp(o))
const reviewsServer = (o: ReviewsOptions, fail?: (n: number) => boolean) =>
  serve(buildReviewsApp({ podName: 'reviews-pod', ...o }), fail)

async function productpage(options: ProductpageOptions): Promise<StartedApp> {
  const started = await startProductpage({ port: 0, host: '127.0.0.1', ...options })
  opened.push(started)
  return started
}

async function getPage(app: StartedApp, headers: Record<string, string> = {}) {
  const res = await fetch(`${app.url}/productpage`, { headers })
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() }
}

const count = (text: string, needle: string) => text.split(needle).length - 1
const filled = (color: string) => `<span class="glyphicon glyphicon-star" style="color:${color}">`
const empty = (color: string) => `<span class="glyphicon glyphicon-star-empty" style="color:${color}">`
const RED_ERROR = '<p class="rating-error" style="color:red">Ratings service is currently unavailable</p>'

let details: Recorded
let ratings: Recorded
let v1: Recorded
let v2: Recorded
let v3: Recorded

beforeAll(async () => {
  details = await serve(buildDetailsApp())
  ratings = await ratingsServer()
  v1 = await reviewsServer({ podName: 'reviews-v1-abc', ratingsUrl: ratings.url })
  v2 = await reviewsServer({ podName: 'reviews-v2-def', ratingsEnabled: true, ratingsUrl: ratings.url })
  v3 = await reviewsServer({
    podName: 'reviews-v3-ghi',
    ratingsEnabled: true,
    starColor: 'red',
    ratingsUrl: ratings.url,
  })
})

describe('the product page with every service up', () => {
  it('v3: details, two reviews with red stars (5 and 4), and the pod that served them', async () => {
    const app = await productpage({ detailsUrl: details.url, reviewsUrl: v3.url, ratingsUrl: ratings.url })
    const { status, type, text } = await getPage(app)
    expect(status).toBe(200)
    expect(type).toBe('text/html; charset=utf-8')
    expect(text).toContain('<title>Simple Bookstore App</title>')
    expect(text).toContain('The Comedy of Errors')
    expect(text).toContain('<dt>ISBN-13:</dt><dd>123-1234567890</dd>')
    expect(text).toContain('<dt>Publisher:</dt><dd>PublisherA</dd>')
    expect(count(text, filled('red'))).toBe(9)
    expect(count(text, empty('red'))).toBe(1)
    expect(count(text, 'style="color:black"')).toBe(0)
    expect(text).toContain('Reviews served by: <u>reviews-v3-ghi</u>')
    expect(text).not.toContain('Error fetching')
  })

  it('v2: black stars', async () => {
    const app = await productpage({ detailsUrl: details.url, reviewsUrl: v2.url, ratingsUrl: ratings.url })
    const { text } = await getPage(app)
    expect(count(text, filled('black'))).toBe(9)
    expect(count(text, empty('black'))).toBe(1)
    expect(count(text, 'style="color:red"')).toBe(0)
    expect(text).toContain('Reviews served by: <u>reviews-v2-def</u>')
  })

  it('v1: reviews without stars or rating errors', async () => {
    const app = await productpage({ detailsUrl: details.url, reviewsUrl: v1.url, ratingsUrl: ratings.url })
    const { text } = await getPage(app)
    expect(count(text, '<blockquote class="review">')).toBe(2)
    expect(count(text, 'glyphicon glyphicon-star')).toBe(0)
    expect(text).not.toContain('Ratings service is currently unavailable')
    expect(text).toContain('Reviews served by: <u>reviews-v1-abc</u>')
  })
})

describe('the product page when services fail', () => {
  it('details down: the details error, reviews still shown', async () => {
    const app = await productpage({
      detailsUrl: `http://127.0.0.1:${await closedPort()}`,
      reviewsUrl: v3.url,
      ratingsUrl: ratings.url,
    })
    const { status, text } = await getPage(app)
    expect(status).toBe(200)
    expect(text).toContain('Error fetching product details')
    expect(text).toContain('Sorry, product details are currently unavailable for this book.')
    expect(text).not.toContain('PublisherA')
    expect(count(text, filled('red'))).toBe(9)
  })

  it('reviews down: the reviews error, details still shown', async () => {
    const app = await productpage({
      detailsUrl: details.url,
      reviewsUrl: `http://127.0.0.1:${await closedPort()}`,
      ratingsUrl: ratings.url,
    })
    const { status, text } = await getPage(app)
    expect(status).toBe(200)
    expect(text).toContain('Error fetching product reviews')
    expect(text).toContain('Sorry, product reviews are currently unavailable for this book.')
    expect(text).not.toContain('Reviews served by')
    expect(text).toContain('PublisherA')
  })

  it('reviews failing once: the second attempt is shown', async () => {
    const flaky = await reviewsServer({ ratingsEnabled: true, ratingsUrl: ratings.url }, (n) => n === 1)
    const app = await productpage({ detailsUrl: details.url, reviewsUrl: flaky.url, ratingsUrl: ratings.url })
    const { text } = await getPage(app)
    expect(flaky.seen).toHaveLength(2)
    expect(text).not.toContain('Error fetching product reviews')
    expect(count(text, filled('black'))).toBe(9)
  })

  it('reviews failing every time: tried exactly twice, then the error', async () => {
    const broken = await reviewsServer({}, () => true)
    const app = await productpage({
      detailsUrl: details.url,
      reviewsUrl: broken.url,
      ratingsUrl: ratings.url,
    })
    const { text } = await getPage(app)
    expect(broken.seen).toHaveLength(2)
    expect(text).toContain('Sorry, product reviews are currently unavailable for this book.')
  })

  it('reviews slower than the timeout: two timed-out attempts, then the error', async () => {
    const slowRatings = await ratingsServer({ version: 'v-delayed', delayMs: 1_000, random: () => 0 })
    const slowReviews = await reviewsServer({ ratingsEnabled: true, ratingsUrl: slowRatings.url })
    const app = await productpage({
      detailsUrl: details.url,
      reviewsUrl: slowReviews.url,
      ratingsUrl: ratings.url,
      upstreamTimeoutMs: 250,
    })
    const t0 = performance.now()
    const { text } = await getPage(app)
    const took = performance.now() - t0
    expect(slowReviews.seen).toHaveLength(2)
    expect(took).toBeGreaterThanOrEqual(490)
    expect(took).toBeLessThan(1_000)
    expect(text).toContain('Sorry, product reviews are currently unavailable for this book.')
  })

  it('ratings down (v3): each review says so in red, no stars', async () => {
    const orphan = await reviewsServer({
      ratingsEnabled: true,
      starColor: 'red',
      ratingsUrl: `http://127.0.0.1:${await closedPort()}`,
    })
    const app = await productpage({
      detailsUrl: details.url,
      reviewsUrl: orphan.url,
      ratingsUrl: ratings.url,
    })
    const { status, text } = await getPage(app)
    expect(status).toBe(200)
    expect(count(text, RED_ERROR)).toBe(2)
    expect(count(text, 'glyphicon glyphicon-star')).toBe(0)
    expect(text).not.toContain('Error fetching product reviews')
  })

  it('ratings answering 503 (v-unavailable, v2): the same red text', async () => {
    const unavailable = await ratingsServer({ version: 'v-unavailable' })
    const reviews = await reviewsServer({ ratingsEnabled: true, ratingsUrl: unavailable.url })
    const app = await productpage({
      detailsUrl: details.url,
      reviewsUrl: reviews.url,
      ratingsUrl: unavailable.url,
    })
    const { text } = await getPage(app)
    expect(count(text, RED_ERROR)).toBe(2)
  })
})

describe('sign in and out', () => {
  it('jason signs in, end-user: jason reaches reviews and ratings, and signing out clears it', async () => {
    const rec = await ratingsServer()
    const reviews = await reviewsServer({ ratingsEnabled: true, ratingsUrl: rec.url })
    const app = await productpage({ detailsUrl: details.url, reviewsUrl: reviews.url, ratingsUrl: rec.url })
    const host = new URL(app.url).host

    const login = await fetch(`${app.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', referer: `${app.url}/productpage` },
      body: 'username=jason&passwd=secret',
    })
    expect(login.status).toBe(302)
    expect(login.headers.get('location')).toBe('/productpage')
    const setCookie = login.headers.getSetCookie()
    expect(setCookie).toHaveLength(1)
    expect(setCookie[0]).toMatch(/^session=jason\.[^;]+;.*HttpOnly/)
    const cookie = setCookie[0]!.split(';')[0]!

    const signedIn = await getPage(app, { cookie })
    expect(signedIn.text).toContain('Welcome, <b>jason</b>')
    expect(signedIn.text).toContain('<a href="/logout">Sign out</a>')
    expect(reviews.seen.at(-1)?.['end-user']).toBe('jason')
    expect(rec.seen.at(-1)?.['end-user']).toBe('jason')
    expect(details.seen.at(-1)?.['end-user']).toBe('jason')

    const logout = await fetch(`${app.url}/logout`, {
      redirect: 'manual',
      headers: { cookie, referer: `http://${host}/productpage` },
    })
    expect(logout.status).toBe(302)
    expect(logout.headers.get('location')).toBe('/productpage')
    expect(logout.headers.getSetCookie()[0]).toMatch(/^session=;.*Expires=Thu, 01 Jan 1970/)

    const signedOut = await getPage(app)
    expect(signedOut.text).not.toContain('Welcome')
    expect(signedOut.text).toContain('action="/login"')
    expect(reviews.seen.at(-1)).not.toHaveProperty('end-user')
    expect(rec.seen.at(-1)).not.toHaveProperty('end-user')
  })

  it('a forged session cookie or an end-user header from the caller signs no one in', async () => {
    const reviews = await reviewsServer({})
    const app = await productpage({
      detailsUrl: details.url,
      reviewsUrl: reviews.url,
      ratingsUrl: ratings.url,
    })
    const { text } = await getPage(app, { cookie: 'session=jason', 'end-user': 'jason' })
    expect(text).not.toContain('Welcome')
    expect(reviews.seen.at(-1)).not.toHaveProperty('end-user')
  })

  it('a blank or unusable user name does not sign in; without a referer it goes to /productpage', async () => {
    const app = await productpage({ detailsUrl: details.url, reviewsUrl: v1.url, ratingsUrl: ratings.url })
    for (const body of ['username=', 'username=jason%0d%0aX-Evil:%201', 'passwd=x']) {
      const res = await fetch(`${app.url}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      })
      expect(res.status).toBe(302)
      expect(res.headers.get('location')).toBe('/productpage')
      expect(res.headers.getSetCookie()).toEqual([])
    }
  })
})

describe('header propagation', () => {
  it('forwards trace, cookie, authorization and user-agent headers to details and reviews, nothing else', async () => {
    const det = await serve(buildDetailsApp())
    const rev = await reviewsServer({})
    const app = await productpage({ detailsUrl: det.url, reviewsUrl: rev.url, ratingsUrl: ratings.url })
    const sent = {
      'x-request-id': 'b6a1c3a0-5b8e-4b7c-9a47-2f3e1f0c9d11',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: 'congo=t61rcWkgMzE',
      'x-b3-traceid': '463ac35c9f6413ad48485a3953bb6124',
      'x-b3-spanid': 'a2fb4a1d1a96d312',
      'x-b3-parentspanid': '0020000000000001',
      'x-b3-sampled': '1',
      'x-b3-flags': '1',
      b3: '463ac35c9f6413ad48485a3953bb6124-a2fb4a1d1a96d312-1',
      cookie: 'theme=dark',
      authorization: 'Bearer abc.def.ghi',
      'user-agent': 'curl/8.5.0',
    }
    await getPage(app, { ...sent, 'x-private': 'do not forward' })
    for (const peer of [det, rev]) {
      expect(peer.seen).toHaveLength(1)
      expect(peer.seen[0]).toMatchObject(sent)
      expect(peer.seen[0]).not.toHaveProperty('x-private')
    }
  })
})

describe('the API, health, index and metrics', () => {
  let app: StartedApp
  beforeAll(async () => {
    app = await productpage({ detailsUrl: details.url, reviewsUrl: v3.url, ratingsUrl: ratings.url })
  })
  const json = async (path: string) => {
    const res = await fetch(`${app.url}${path}`)
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }

  it('lists the products', async () => {
    const { status, body } = await json('/api/v1/products')
    expect(status).toBe(200)
    expect(body).toEqual([
      { id: 0, title: 'The Comedy of Errors', descriptionHtml: expect.stringContaining('Wikipedia Summary') },
    ])
  })

  it('passes on details, reviews and ratings', async () => {
    expect(await json('/api/v1/products/0')).toMatchObject({ status: 200, body: { id: 0, pages: 200 } })
    const reviews = await json('/api/v1/products/0/reviews')
    expect(reviews).toMatchObject({ status: 200, body: { id: '0', podname: 'reviews-v3-ghi' } })
    expect(await json('/api/v1/products/2/ratings')).toEqual({
      status: 200,
      body: { id: 2, ratings: { Reviewer1: 5, Reviewer2: 4 } },
    })
  })

  it('answers 400 on a bad id and the peer failure as an error status', async () => {
    expect(await json('/api/v1/products/x/reviews')).toEqual({
      status: 400,
      body: { error: 'please provide numeric product id' },
    })
    const down = await productpage({
      detailsUrl: `http://127.0.0.1:${await closedPort()}`,
      reviewsUrl: v1.url,
      ratingsUrl: (await ratingsServer({ version: 'v-unavailable' })).url,
    })
    const det = await fetch(`${down.url}/api/v1/products/0`)
    expect(det.status).toBe(502)
    expect(await det.json()).toEqual({
      error: 'Sorry, product details are currently unavailable for this book.',
    })
    const rat = await fetch(`${down.url}/api/v1/products/0/ratings`)
    expect(rat.status).toBe(503)
    expect(await rat.json()).toEqual({
      error: 'Sorry, product ratings are currently unavailable for this book.',
    })
  })

  it('has /health, an index page, and Prometheus metrics of its calls', async () => {
    const health = await fetch(`${app.url}/health`)
    expect(health.status).toBe(200)
    expect(await health.text()).toBe('Product page is healthy')
    const index = await fetch(`${app.url}/`)
    expect(await index.text()).toMatch(/<title>Simple Bookstore App<\/title>[\s\S]*href="\/productpage"/)
    await getPage(app)
    const metrics = await (await fetch(`${app.url}/metrics`)).text()
    expect(metrics).toMatch(/^request_result_total\{destination_app="details",response_code="200"\} [1-9]/m)
    expect(metrics).toMatch(/^request_result_total\{destination_app="reviews",response_code="200"\} [1-9]/m)
    expect(metrics).toMatch(/^upstream_request_duration_seconds_count\{destination_app="reviews"\} [1-9]/m)
    expect(metrics).toMatch(
      /^productpage_requests_total\{method="GET",route="\/productpage",response_code="200"\} 1$/m,
    )
  })
})
