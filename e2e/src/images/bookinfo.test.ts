// The four Bookinfo images, started with testcontainers on one network (the services find each
// other by name, as in Kubernetes): each answers its health check and its API, productpage and
// reviews reach their peers, and every app runs as the node user (uid 1000), not root.
import {
  GenericContainer,
  Network,
  type StartedNetwork,
  type StartedTestContainer,
  Wait,
} from 'testcontainers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { image, mainProcessCommand, mainProcessUids, url } from './images.ts'

const PORT = 9080

function app(
  name: string,
  network: StartedNetwork,
  env: Record<string, string> = {},
): Promise<StartedTestContainer> {
  return new GenericContainer(image(`bookinfo-${name}`))
    .withNetwork(network)
    .withNetworkAliases(name)
    .withEnvironment(env)
    .withExposedPorts(PORT)
    .withWaitStrategy(Wait.forHttp('/health', PORT).forStatusCode(200))
    .withStartupTimeout(60_000)
    .start()
}

async function json(address: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(address)
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

describe('Bookinfo images', () => {
  let network: StartedNetwork
  const c: Record<string, StartedTestContainer> = {}

  beforeAll(async () => {
    network = await new Network().start()
    // Peers first: reviews calls ratings, productpage calls details and reviews.
    ;[c.ratings, c.details] = await Promise.all([app('ratings', network), app('details', network)])
    c.reviews = await app('reviews', network, { ENABLE_RATINGS: 'true', STAR_COLOR: 'black' })
    c.productpage = await app('productpage', network)
  })

  afterAll(async () => {
    await Promise.all(Object.values(c).map((container) => container.stop()))
    await network?.stop()
  })

  it.each([
    ['details', { status: 'Details is healthy' }],
    ['ratings', { status: 'Ratings is healthy' }],
    ['reviews', { status: 'Reviews is healthy' }],
  ])('%s answers /health', async (name, body) => {
    expect(await json(url(c[name]!, PORT, '/health'))).toEqual({ status: 200, body })
  })

  it('productpage answers /health', async () => {
    const res = await fetch(url(c.productpage!, PORT, '/health'))
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('Product page is healthy')
  })

  it('details answers /details/0 and refuses a bad id', async () => {
    const ok = await json(url(c.details!, PORT, '/details/0'))
    expect(ok.status).toBe(200)
    expect(ok.body).toMatchObject({ id: 0, author: 'William Shakespeare', year: 1595 })
    expect((await fetch(url(c.details!, PORT, '/details/x'))).status).toBe(400)
  })

  it('ratings answers /ratings/0', async () => {
    const res = await json(url(c.ratings!, PORT, '/ratings/0'))
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } })
  })

  it('reviews answers /reviews/0 with the stars it got from the ratings container', async () => {
    const res = await json(url(c.reviews!, PORT, '/reviews/0'))
    expect(res.status).toBe(200)
    const reviews = res.body.reviews as { reviewer: string; rating?: unknown }[]
    expect(reviews.map((r) => [r.reviewer, r.rating])).toEqual([
      ['Reviewer1', { stars: 5, color: 'black' }],
      ['Reviewer2', { stars: 4, color: 'black' }],
    ])
  })

  it('productpage serves its API and the page from details and reviews', async () => {
    const products = await fetch(url(c.productpage!, PORT, '/api/v1/products'))
    expect(products.status).toBe(200)
    expect(((await products.json()) as { title: string }[])[0]?.title).toBe('The Comedy of Errors')
    const details = await json(url(c.productpage!, PORT, '/api/v1/products/0'))
    expect(details).toMatchObject({ status: 200, body: { id: 0, publisher: 'PublisherA' } })
    const reviews = await json(url(c.productpage!, PORT, '/api/v1/products/0/reviews'))
    expect(reviews.status).toBe(200)
    expect(JSON.stringify(reviews.body)).toContain('"stars":5')
    const page = await fetch(url(c.productpage!, PORT, '/productpage'))
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('The Comedy of Errors')
    expect(html).toContain('PublisherA')
    expect(html).toContain('Reviewer1')
  })

  it.each(['productpage', 'details', 'reviews', 'ratings'])(
    '%s runs `node bin/app.js` as uid 1000, not root',
    async (name) => {
      expect(await mainProcessUids(c[name]!)).toEqual([1000, 1000, 1000])
      expect(await mainProcessCommand(c[name]!)).toEqual(['node', 'bin/app.js'])
    },
  )
})
