import type { StartedApp } from '@minimesh/bookinfo-common'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDetails } from './app.ts'

let details: StartedApp

beforeAll(async () => {
  details = await startDetails({ port: 0, host: '127.0.0.1' })
})
afterAll(() => details.close())

async function get(path: string) {
  const res = await fetch(`${details.url}${path}`)
  return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as unknown }
}

describe('details over HTTP', () => {
  it('answers the book details for a numeric id', async () => {
    const res = await get('/details/0')
    expect(res.status).toBe(200)
    expect(res.type).toMatch(/^application\/json/)
    expect(res.body).toEqual({
      id: 0,
      author: 'William Shakespeare',
      year: 1595,
      type: 'paperback',
      pages: 200,
      publisher: 'PublisherA',
      language: 'English',
      'ISBN-10': '1234567890',
      'ISBN-13': '123-1234567890',
    })
  })

  it('echoes the id it was asked for', async () => {
    expect(await get('/details/42')).toMatchObject({ status: 200, body: { id: 42 } })
  })

  it.each(['/details/abc', '/details/1x', '/details/-1', '/details/', '/details'])(
    '%s is a 400 asking for a numeric id',
    async (path) => {
      expect(await get(path)).toEqual({
        status: 400,
        type: expect.stringMatching(/^application\/json/),
        body: { error: 'please provide numeric product id' },
      })
    },
  )

  it('says it is healthy', async () => {
    expect(await get('/health')).toMatchObject({ status: 200, body: { status: 'Details is healthy' } })
  })

  it('answers 404 on an unknown path', async () => {
    expect((await get('/nope')).status).toBe(404)
  })
})
