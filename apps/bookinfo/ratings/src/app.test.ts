import type { StartedApp } from '@minimesh/bookinfo-common'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRatings } from './app.ts'

let ratings: StartedApp

beforeAll(async () => {
  ratings = await startRatings({ port: 0, host: '127.0.0.1' })
})
afterAll(() => ratings.close())

async function call(path: string, init?: RequestInit) {
  const res = await fetch(`${ratings.url}${path}`, init)
  return { status: res.status, body: (await res.json()) as unknown }
}

const post = (path: string, body: string, type = 'application/json') =>
  call(path, { method: 'POST', body, headers: { 'content-type': type } })

describe('ratings v1 over HTTP', () => {
  it('rates every product 5 and 4 by default', async () => {
    expect(await call('/ratings/0')).toEqual({
      status: 200,
      body: { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } },
    })
    expect(await call('/ratings/3')).toEqual({
      status: 200,
      body: { id: 3, ratings: { Reviewer1: 5, Reviewer2: 4 } },
    })
  })

  it('stores posted ratings for that product only', async () => {
    expect(await post('/ratings/11', '{"Reviewer1":1,"Reviewer2":2}')).toEqual({
      status: 200,
      body: { id: 11, ratings: { Reviewer1: 1, Reviewer2: 2 } },
    })
    expect(await call('/ratings/11')).toEqual({
      status: 200,
      body: { id: 11, ratings: { Reviewer1: 1, Reviewer2: 2 } },
    })
    expect(await call('/ratings/12')).toEqual({
      status: 200,
      body: { id: 12, ratings: { Reviewer1: 5, Reviewer2: 4 } },
    })
  })

  it.each(['/ratings/abc', '/ratings/1.5', '/ratings/-2'])('GET %s is a 400', async (path) => {
    expect(await call(path)).toEqual({ status: 400, body: { error: 'please provide numeric product ID' } })
  })

  it('POST on a bad id is a 400', async () => {
    expect(await post('/ratings/x', '{"Reviewer1":1}')).toEqual({
      status: 400,
      body: { error: 'please provide numeric product ID' },
    })
  })

  it.each([
    ['not JSON', '{"Reviewer1":', 'application/json'],
    ['an array', '[5,4]', 'application/json'],
    ['stars out of range', '{"Reviewer1":6}', 'application/json'],
    ['fractional stars', '{"Reviewer1":2.5}', 'application/json'],
    ['an empty object', '{}', 'application/json'],
    ['not JSON at all', 'Reviewer1=5', 'text/plain'],
  ])('POST of %s is a 400 and stores nothing', async (_what, body, type) => {
    expect(await post('/ratings/21', body, type)).toEqual({
      status: 400,
      body: { error: 'please provide valid ratings JSON' },
    })
    expect((await call('/ratings/21')).body).toEqual({ id: 21, ratings: { Reviewer1: 5, Reviewer2: 4 } })
  })

  it('says it is healthy', async () => {
    expect(await call('/health')).toEqual({ status: 200, body: { status: 'Ratings is healthy' } })
  })
})
