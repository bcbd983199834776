import { setTimeout as sleep } from 'node:timers/promises'
import {
  createApp,
  type ListenOptions,
  listenApp,
  parseProductId,
  type StartedApp,
} from '@minimesh/bookinfo-common'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { parseRatings, RatingsStore } from './ratings.ts'
import { behaviourFor, type ServiceVersion } from './variants.ts'

export interface RatingsOptions {
  /** Default v1. */
  readonly version?: ServiceVersion
  /** How long v-delayed holds a delayed answer; default 7 s (Istio's). */
  readonly delayMs?: number
  /** Source of randomness for v-faulty and v-delayed; default Math.random. */
  readonly random?: () => number
  /** Default: a logger that writes nothing. */
  readonly logger?: FastifyBaseLogger
}

export const DEFAULT_DELAY_MS = 7_000

/**
 * The ratings service: `GET /ratings/:id` answers `{ id, ratings }` (Reviewer1 5 and Reviewer2 4
 * unless other ratings were posted), `POST /ratings/:id` stores a JSON object of reviewer → stars,
 * a non-numeric id is a 400. The variant decides whether a GET fails (503) or is delayed.
 */
export function buildRatingsApp(options: RatingsOptions = {}): FastifyInstance {
  const version = options.version ?? 'v1'
  const delayMs = options.delayMs ?? DEFAULT_DELAY_MS
  const random = options.random ?? Math.random
  const store = new RatingsStore()
  const app = createApp(options.logger)

  app.get('/health', async () => ({ status: 'Ratings is healthy' }))

  app.get<{ Params: { id: string } }>('/ratings/:id', async (request, reply) => {
    const id = parseProductId(request.params.id)
    if (id === undefined) return reply.code(400).send({ error: 'please provide numeric product ID' })
    const behaviour = behaviourFor(version, random)
    if (behaviour.kind === 'unavailable') return reply.code(503).send({ error: 'Service unavailable' })
    if (behaviour.kind === 'delay') await sleep(delayMs)
    return store.get(id)
  })

  app.post<{ Params: { id: string } }>('/ratings/:id', async (request, reply) => {
    const id = parseProductId(request.params.id)
    if (id === undefined) return reply.code(400).send({ error: 'please provide numeric product ID' })
    const ratings = parseRatings(request.body)
    if (!ratings) return reply.code(400).send({ error: 'please provide valid ratings JSON' })
    return store.put(id, ratings)
  })

  // A body that is not JSON at all gets the same answer as JSON that is not ratings.
  app.setErrorHandler((err: { statusCode?: number; message: string }, request, reply) => {
    if (err.statusCode === 400 || err.statusCode === 415) {
      return reply.code(400).send({ error: 'please provide valid ratings JSON' })
    }
    request.log.error({ err }, 'request failed')
    return reply
      .code(err.statusCode && err.statusCode >= 400 ? err.statusCode : 500)
      .send({ error: err.message })
  })
  return app
}

/** Builds the ratings app and listens (port default 9080, 0 for any). */
export function startRatings(options: RatingsOptions & ListenOptions = {}): Promise<StartedApp> {
  return listenApp(buildRatingsApp(options), options)
}
