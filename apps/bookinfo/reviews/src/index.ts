export { buildReviewsApp, type ReviewsOptions, startReviews } from './app.ts'
export {
  buildReviews,
  parseRatingsBody,
  parseStarColor,
  RATINGS_UNAVAILABLE,
  type Rating,
  type RatingsOutcome,
  REVIEWS,
  type Review,
  type ReviewsInput,
  type ReviewsResponse,
  ratingsTimeoutMs,
} from './reviews.ts'
