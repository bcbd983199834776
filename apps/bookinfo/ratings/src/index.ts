export { buildRatingsApp, DEFAULT_DELAY_MS, type RatingsOptions, startRatings } from './app.ts'
export { DEFAULT_RATINGS, type ProductRatings, parseRatings, type Ratings, RatingsStore } from './ratings.ts'
export {
  type Behaviour,
  behaviourFor,
  FAULT_PROBABILITY,
  parseServiceVersion,
  SERVICE_VERSIONS,
  type ServiceVersion,
} from './variants.ts'
