import { BookinfoError } from '@minimesh/bookinfo-common'

/** A reviewer's stars in the version's colour, or why there are none. */
export type Rating = { readonly stars: number; readonly color: string } | { readonly error: string }

export interface Review {
  readonly reviewer: string
  readonly text: string
  /** Absent in v1, which does not call ratings. */
  readonly rating?: Rating
}

/** The body of `GET /reviews/:id`. */
export interface ReviewsResponse {
  readonly id: string
  readonly podname: string
  readonly clustername: string
  readonly reviews: readonly Review[]
}

/** What came of asking ratings: not asked (v1), stars per reviewer, or no usable answer. */
export type RatingsOutcome =
  | { readonly kind: 'disabled' }
  | { readonly kind: 'rated'; readonly ratings: Readonly<Record<string, number>> }
  | { readonly kind: 'unavailable' }

export const RATINGS_UNAVAILABLE = 'Ratings service is currently unavailable'

/** The two reviews every product has. */
export const REVIEWS: readonly Omit<Review, 'rating'>[] = [
  {
    reviewer: 'Reviewer1',
    text: 'A riot from start to finish: two pairs of twins, one town, and every mix-up lands. Great fun to read aloud.',
  },
  {
    reviewer: 'Reviewer2',
    text: 'Quick and very funny, though it has less to say than the later plays. The farce carries it.',
  },
]

export interface ReviewsInput {
  readonly productId: number
  readonly podname: string
  readonly clustername: string
  readonly starColor: string
  readonly ratings: RatingsOutcome
}

/**
 * Puts the answer together. With ratings, each review gets its reviewer's stars in `starColor`; a
 * reviewer ratings did not rate, or ratings that could not be had, give that review the
 * "unavailable" error instead.
 */
export function buildReviews(input: ReviewsInput): ReviewsResponse {
  const outcome = input.ratings
  const reviews = REVIEWS.map((review): Review => {
    if (outcome.kind === 'disabled') return { ...review }
    const stars = outcome.kind === 'rated' ? outcome.ratings[review.reviewer] : undefined
    return {
      ...review,
      rating: stars === undefined ? { error: RATINGS_UNAVAILABLE } : { stars, color: input.starColor },
    }
  })
  return { id: String(input.productId), podname: input.podname, clustername: input.clustername, reviews }
}

/**
 * How long to wait for ratings: Istio's reviews waits 10 s when its stars are black (v2) and
 * 2.5 s otherwise (v3), so that the two versions behave differently under an injected delay.
 */
export function ratingsTimeoutMs(starColor: string): number {
  return starColor === 'black' ? 10_000 : 2_500
}

/** Reads the ratings out of a ratings answer (`{ id, ratings: { Reviewer1: 5 } }`); undefined if it is not one. */
export function parseRatingsBody(body: unknown): Record<string, number> | undefined {
  const ratings = (body as { ratings?: unknown } | null)?.ratings
  if (typeof ratings !== 'object' || ratings === null || Array.isArray(ratings)) return undefined
  const out: Record<string, number> = {}
  for (const [reviewer, stars] of Object.entries(ratings)) {
    if (Number.isInteger(stars) && stars >= 0 && stars <= 5) out[reviewer] = stars
  }
  return out
}

/** STAR_COLOR: a CSS colour name or hex colour; default black. */
export function parseStarColor(value: string | undefined): string {
  const color = value?.trim() || 'black'
  if (!/^(?:[A-Za-z]{1,30}|#[0-9A-Fa-f]{3,8})$/.test(color)) {
    throw new BookinfoError(
      'MESH_ERR_BOOKINFO_CONFIG',
      `STAR_COLOR=${color} is not a colour name or #hex colour`,
    )
  }
  return color
}
