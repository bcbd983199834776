// The four real programs as processes, wired to each other through the environment, as in a pod.
import { fileURLToPath } from 'node:url'
import { closedPort, type SpawnedMain, spawnMain } from '@minimesh/bookinfo-common/testing'
import { afterAll, describe, expect, it } from 'vitest'

const mainOf = (app: string) => fileURLToPath(new URL(`../../${app}/src/main.ts`, import.meta.url))
const running: SpawnedMain[] = []
afterAll(() => Promise.all(running.map((p) => p.stop('SIGKILL'))))

async function spawn(app: string, env: Record<string, string> = {}): Promise<SpawnedMain> {
  const proc = await spawnMain(mainOf(app), env)
  running.push(proc)
  return proc
}

describe('Bookinfo as four processes', () => {
  it('productpage shows details and v3 reviews from its peers, and every process exits 0 on SIGTERM', async () => {
    const [details, ratings] = await Promise.all([spawn('details'), spawn('ratings')])
    const reviews = await spawn('reviews', {
      ENABLE_RATINGS: 'true',
      STAR_COLOR: 'red',
      RATINGS_HOSTNAME: '127.0.0.1',
      RATINGS_SERVICE_PORT: String(ratings.port),
      POD_NAME: 'reviews-v3-7dbcdcbc56-abcde',
    })
    const productpage = await spawn('productpage', {
      DETAILS_HOSTNAME: '127.0.0.1',
      DETAILS_SERVICE_PORT: String(details.port),
      REVIEWS_HOSTNAME: '127.0.0.1',
      REVIEWS_SERVICE_PORT: String(reviews.port),
      RATINGS_HOSTNAME: '127.0.0.1',
      RATINGS_SERVICE_PORT: String(ratings.port),
    })

    const res = await fetch(`${productpage.url}/productpage`)
    expect(res.status).toBe(200)
    const page = await res.text()
    expect(page).toContain('<title>Simple Bookstore App</title>')
    expect(page).toContain('<dd>PublisherA</dd>')
    expect(page.split('<span class="glyphicon glyphicon-star" style="color:red">')).toHaveLength(10)
    expect(page).toContain('Reviews served by: <u>reviews-v3-7dbcdcbc56-abcde</u>')

    const logged = productpage.lines.map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(logged.find((l) => l.msg === 'listening')).toMatchObject({
      app: 'productpage',
      detailsUrl: `http://127.0.0.1:${details.port}`,
    })

    for (const proc of [productpage, reviews, ratings, details]) {
      expect(await proc.stop('SIGTERM')).toEqual({ code: 0, signal: null })
    }
  })

  it('productpage alone, with its peers down, still serves the page with both error texts', async () => {
    const productpage = await spawn('productpage', {
      DETAILS_HOSTNAME: '127.0.0.1',
      DETAILS_SERVICE_PORT: String(await closedPort()),
      REVIEWS_HOSTNAME: '127.0.0.1',
      REVIEWS_SERVICE_PORT: String(await closedPort()),
      RATINGS_HOSTNAME: '127.0.0.1',
      RATINGS_SERVICE_PORT: String(await closedPort()),
    })
    const page = await (await fetch(`${productpage.url}/productpage`)).text()
    expect(page).toContain('Sorry, product details are currently unavailable for this book.')
    expect(page).toContain('Sorry, product reviews are currently unavailable for this book.')
    expect(await productpage.stop()).toEqual({ code: 0, signal: null })
  })
})
