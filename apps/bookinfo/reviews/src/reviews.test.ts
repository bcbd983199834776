import { describe, expect, it } from 'vitest'
import { buildReviews, parseRatingsBody, parseStarColor, ratingsTimeoutMs } from './reviews.ts'

const base = { productId: 3, podname: 'p', clustername: 'null', starColor: 'red' }

describe('buildReviews', () => {
  it('leaves rating out when ratings are disabled', () => {
    const out = buildReviews({ ...base, ratings: { kind: 'disabled' } })
    expect(out.id).toBe('3')
    expect(out.reviews.every((r) => r.rating === undefined)).toBe(true)
  })

  it('gives each reviewer their stars in the colour, or the error when missing', () => {
    const out = buildReviews({ ...base, ratings: { kind: 'rated', ratings: { Reviewer2: 0 } } })
    expect(out.reviews.map((r) => r.rating)).toEqual([
      { error: 'Ratings service is currently unavailable' },
      { stars: 0, color: 'red' },
    ])
  })
})

describe('settings', () => {
  it('waits 10 s for black stars and 2.5 s for any other colour', () => {
    expect(ratingsTimeoutMs('black')).toBe(10_000)
    expect(ratingsTimeoutMs('red')).toBe(2_500)
  })

  it('accepts colour names and hex colours only', () => {
    expect(parseStarColor(undefined)).toBe('black')
    expect(parseStarColor('red')).toBe('red')
    expect(parseStarColor('#ff0000')).toBe('#ff0000')
    expect(() => parseStarColor('red;background:url(x)')).toThrow(/STAR_COLOR=.* is not a colour/)
  })

  it('reads only whole stars 0..5 from a ratings answer', () => {
    expect(parseRatingsBody({ id: 0, ratings: { a: 5, b: 9, c: 'x', d: 2.5 } })).toEqual({ a: 5 })
    expect(parseRatingsBody({ id: 0 })).toBeUndefined()
    expect(parseRatingsBody(null)).toBeUndefined()
  })
})
