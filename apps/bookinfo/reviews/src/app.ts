import { hostname } from 'node:os'
import {
  createApp,
  createUpstreamAgent,
  END_USER_HEADER,
  fetchJson,
  type ListenOptions,
  listenApp,
  PROPAGATED_HEADERS,
  parseProductId,
  pickHeaders,
  type StartedApp,
} from '@minimesh/bookinfo-common'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { buildReviews, parseRatingsBody, type RatingsOutcome, ratingsTimeoutMs } from './reviews.ts'

export interface ReviewsOptions {
  /** v2 and v3 call ratings; v1 does not. Default false. */
  readonly ratingsEnabled?: boolean
  /** black for v2, red for v3; default black. */
  readonly starColor?: string
  /** Base URL of ratings; default http://ratings:9080. */
  readonly ratingsUrl?: string
  /** Reported as `podname`; default the host name. */
  readonly podName?: string
  /** Reported as `clustername`; default "null" (Istio's reviews says so when it is unset). */
  readonly clusterName?: string
  /** Overrides the colour-based timeout for ratings (see ratingsTimeoutMs). */
  readonly ratingsTimeoutMs?: number
  /** Default: a logger that writes nothing. */
  readonly logger?: FastifyBaseLogger
}

const FORWARDED = [...PROPAGATED_HEADERS, END_USER_HEADER]

/**
 * The reviews service, v1/v2/v3 by options: `GET /reviews/:id` answers the two reviews, with each
 * reviewer's stars from ratings when ratings are enabled. A failing ratings service costs the stars,
 * not the answer: each review then carries `rating.error` and the status is still 200.
 */
export function buildReviewsApp(options: ReviewsOptions = {}): FastifyInstance {
  const ratingsEnabled = options.ratingsEnabled ?? false
  const starColor = options.starColor ?? 'black'
  const ratingsUrl = (options.ratingsUrl ?? 'http://ratings:9080').replace(/\/+$/, '')
  const podname = options.podName ?? hostname()
  const clustername = options.clusterName ?? 'null'
  const timeoutMs = options.ratingsTimeoutMs ?? ratingsTimeoutMs(starColor)
  const agent = createUpstreamAgent()
  const app = createApp(options.logger)
  app.addHook('onClose', () => agent.close())

  app.get('/health', async () => ({ status: 'Reviews is healthy' }))

  app.get<{ Params: { id: string } }>('/reviews/:id', async (request, reply) => {
    const productId = parseProductId(request.params.id)
    if (productId === undefined) return reply.code(400).send({ error: 'please provide numeric product id' })
    let ratings: RatingsOutcome = { kind: 'disabled' }
    if (ratingsEnabled) {
      const result = await fetchJson(`${ratingsUrl}/ratings/${productId}`, {
        dispatcher: agent,
        headers: pickHeaders(request.headers, FORWARDED),
        timeoutMs,
      })
      const parsed = result.ok ? parseRatingsBody(result.body) : undefined
      if (parsed) {
        ratings = { kind: 'rated', ratings: parsed }
      } else {
        request.log.warn(
          { status: result.status, error: result.error ?? 'not a ratings answer' },
          'ratings failed',
        )
        ratings = { kind: 'unavailable' }
      }
    }
    return buildReviews({ productId, podname, clustername, starColor, ratings })
  })
  return app
}

/** Builds the reviews app and listens (port default 9080, 0 for any). */
export function startReviews(options: ReviewsOptions & ListenOptions = {}): Promise<StartedApp> {
  return listenApp(buildReviewsApp(options), options)
}
