/** Stars per reviewer, e.g. `{ Reviewer1: 5, Reviewer2: 4 }`. */
export type Ratings = Readonly<Record<string, number>>

export interface ProductRatings {
  readonly id: number
  readonly ratings: Ratings
}

/** What every product is rated until someone posts other ratings for it. */
export const DEFAULT_RATINGS: Ratings = { Reviewer1: 5, Reviewer2: 4 }

/** Ratings posted per product, kept in memory for the life of the process (Istio's v1 does the same). */
export class RatingsStore {
  readonly #posted = new Map<number, Ratings>()

  get(id: number): ProductRatings {
    return { id, ratings: this.#posted.get(id) ?? DEFAULT_RATINGS }
  }

  put(id: number, ratings: Ratings): ProductRatings {
    this.#posted.set(id, ratings)
    return this.get(id)
  }
}

/**
 * Checks a posted body: an object of at most 100 reviewers, each with a whole number of stars from
 * 0 to 5. Returns the ratings, or undefined when the body is not that.
 */
export function parseRatings(body: unknown): Ratings | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined
  const entries = Object.entries(body)
  if (entries.length === 0 || entries.length > 100) return undefined
  const ratings: Record<string, number> = {}
  for (const [reviewer, stars] of entries) {
    if (reviewer.length > 100 || !Number.isInteger(stars) || (stars as number) < 0 || (stars as number) > 5) {
      return undefined
    }
    ratings[reviewer] = stars as number
  }
  return ratings
}
