import {
  createApp,
  type ListenOptions,
  listenApp,
  parseProductId,
  type StartedApp,
} from '@minimesh/bookinfo-common'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { bookDetails } from './details.ts'

export interface DetailsOptions {
  /** Default: a logger that writes nothing. */
  readonly logger?: FastifyBaseLogger
}

/**
 * The details service: `GET /details/:id` answers the book's details as JSON (400 with
 * `please provide numeric product id` when the id is not a number), `GET /health` says it is up.
 */
export function buildDetailsApp(options: DetailsOptions = {}): FastifyInstance {
  const app = createApp(options.logger)

  app.get('/health', async () => ({ status: 'Details is healthy' }))

  // `/details` and `/details/` carry no id: they get the same 400 as a non-numeric one.
  for (const url of ['/details', '/details/:id']) {
    app.get<{ Params: { id?: string } }>(url, async (request, reply) => {
      const id = parseProductId(request.params.id)
      if (id === undefined) return reply.code(400).send({ error: 'please provide numeric product id' })
      return bookDetails(id)
    })
  }
  return app
}

/** Builds the details app and listens (port default 9080, 0 for any). */
export function startDetails(options: DetailsOptions & ListenOptions = {}): Promise<StartedApp> {
  return listenApp(buildDetailsApp(options), options)
}
