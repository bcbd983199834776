import { fileURLToPath } from 'node:url'
import type { StartedApp } from '@minimesh/bookinfo-common'
import { spawnMain } from '@minimesh/bookinfo-common/testing'
import { startRatings } from '@minimesh/bookinfo-ratings'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const main = fileURLToPath(new URL('./main.ts', import.meta.url))
let ratings: StartedApp

beforeAll(async () => {
  ratings = await startRatings({ port: 0, host: '127.0.0.1' })
})
afterAll(() => ratings.close())

describe('reviews main.ts as a process', () => {
  it('runs as v3 from its environment and exits 0 on SIGTERM', async () => {
    const proc = await spawnMain(main, {
      ENABLE_RATINGS: 'true',
      STAR_COLOR: 'red',
      RATINGS_HOSTNAME: '127.0.0.1',
      RATINGS_SERVICE_PORT: String(ratings.port),
      POD_NAME: 'reviews-v3-5f7b9c-x2x4z',
    })
    try {
      const body = (await (await fetch(`${proc.url}/reviews/0`)).json()) as Record<string, unknown>
      expect(body).toMatchObject({
        id: '0',
        podname: 'reviews-v3-5f7b9c-x2x4z',
        reviews: [{ rating: { stars: 5, color: 'red' } }, { rating: { stars: 4, color: 'red' } }],
      })
    } finally {
      expect(await proc.stop()).toEqual({ code: 0, signal: null })
    }
  })

  it('is v1 when ENABLE_RATINGS is unset', async () => {
    const proc = await spawnMain(main, { POD_NAME: 'reviews-v1', RATINGS_HOSTNAME: '127.0.0.1' })
    try {
      const body = (await (await fetch(`${proc.url}/reviews/0`)).json()) as { reviews: object[] }
      expect(body.reviews).toHaveLength(2)
      expect(body.reviews.some((r) => 'rating' in r)).toBe(false)
    } finally {
      await proc.stop()
    }
  })

  it('refuses ENABLE_RATINGS that is not true or false', async () => {
    await expect(spawnMain(main, { ENABLE_RATINGS: 'yes' })).rejects.toThrow(
      /ENABLE_RATINGS=yes is not true or false/,
    )
  })
})
