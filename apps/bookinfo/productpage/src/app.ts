import { randomBytes } from 'node:crypto'
import fastifyCookie from '@fastify/cookie'
import fastifyFormbody from '@fastify/formbody'
import {
  createApp,
  END_USER_HEADER,
  type ListenOptions,
  listenApp,
  PROPAGATED_HEADERS,
  parseProductId,
  pickHeaders,
  type StartedApp,
} from '@minimesh/bookinfo-common'
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { createMetrics } from './metrics.ts'
import { renderIndex, renderProductPage } from './page.ts'
import { PRODUCTS, productsJson } from './products.ts'
import { backTo, cleanUserName, SESSION_COOKIE } from './session.ts'
import { type PeerAnswer, Upstreams } from './upstreams.ts'

export interface ProductpageOptions {
  /** Base URL of details; default http://details:9080. */
  readonly detailsUrl?: string
  /** Base URL of reviews; default http://reviews:9080. */
  readonly reviewsUrl?: string
  /** Base URL of ratings; default http://ratings:9080. */
  readonly ratingsUrl?: string
  /** Per call to a peer; default 3 s. */
  readonly upstreamTimeoutMs?: number
  /** Signs the session cookie; default random per process (sessions end when it restarts). */
  readonly sessionSecret?: string
  /** Default: a logger that writes nothing. */
  readonly logger?: FastifyBaseLogger
}

/**
 * productpage: the HTML page at `/productpage` built from details and reviews, sign in and out
 * (`POST /login`, `GET /logout`) into a signed session cookie whose user goes to the peers as
 * `end-user`, the JSON API under `/api/v1/products`, `/health` and Prometheus `/metrics`.
 */
export function buildProductpageApp(options: ProductpageOptions = {}): FastifyInstance {
  const metrics = createMetrics()
  const upstreams = new Upstreams(
    {
      detailsUrl: options.detailsUrl ?? 'http://details:9080',
      reviewsUrl: options.reviewsUrl ?? 'http://reviews:9080',
      ratingsUrl: options.ratingsUrl ?? 'http://ratings:9080',
      timeoutMs: options.upstreamTimeoutMs,
    },
    metrics,
  )
  const app = createApp(options.logger)
  app.register(fastifyCookie, { secret: options.sessionSecret ?? randomBytes(32).toString('hex') })
  app.register(fastifyFormbody)
  app.addHook('onClose', () => upstreams.close())
  app.addHook('onResponse', async (request, reply) => {
    metrics.requests.inc({
      method: request.method,
      route: request.routeOptions.url ?? 'unknown',
      response_code: String(reply.statusCode),
    })
  })

  const userOf = (request: FastifyRequest): string | undefined => {
    const cookie = request.cookies[SESSION_COOKIE]
    if (!cookie) return undefined
    const unsigned = request.unsignCookie(cookie)
    return unsigned.valid && unsigned.value !== null ? cleanUserName(unsigned.value) : undefined
  }
  // What the peers get: the caller's trace and identity headers, and the signed-in user as end-user.
  const forwardHeaders = (request: FastifyRequest): Record<string, string> => {
    const headers = pickHeaders(request.headers, PROPAGATED_HEADERS)
    const user = userOf(request)
    if (user) headers[END_USER_HEADER] = user
    return headers
  }
  const sendPeer = (answer: PeerAnswer) => (answer.ok ? answer.value : { error: answer.error })

  app.get('/health', async () => 'Product page is healthy')

  app.get('/', async (request, reply) =>
    reply.type('text/html; charset=utf-8').send(renderIndex(userOf(request))),
  )
  app.get('/index.html', async (_request, reply) => reply.redirect('/', 301))

  app.get('/productpage', async (request, reply) => {
    const product = PRODUCTS[0]!
    const headers = forwardHeaders(request)
    const [details, reviews] = await Promise.all([
      upstreams.details(product.id, headers, request.log),
      upstreams.reviews(product.id, headers, request.log),
    ])
    const page = renderProductPage({ product, user: userOf(request), details, reviews })
    return reply.type('text/html; charset=utf-8').send(page)
  })

  app.post<{ Body: { username?: unknown } | undefined }>('/login', async (request, reply) => {
    const user = cleanUserName(request.body?.username)
    if (user) {
      reply.setCookie(SESSION_COOKIE, user, { signed: true, httpOnly: true, sameSite: 'lax', path: '/' })
      request.log.info({ user }, 'signed in')
    }
    return reply.redirect(backTo(request.headers.referer, request.headers.host), 302)
  })

  app.get('/logout', async (request, reply) => {
    reply.clearCookie(SESSION_COOKIE, { path: '/' })
    return reply.redirect(backTo(request.headers.referer, request.headers.host), 302)
  })

  app.get('/api/v1/products', async () => productsJson())

  const api =
    (call: (id: number, headers: Record<string, string>, log: FastifyBaseLogger) => Promise<PeerAnswer>) =>
    async (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
      const id = parseProductId(request.params.id)
      if (id === undefined) return reply.code(400).send({ error: 'please provide numeric product id' })
      const answer = await call(id, forwardHeaders(request), request.log)
      return reply.code(answer.status).send(sendPeer(answer))
    }
  app.get(
    '/api/v1/products/:id',
    api((id, h, log) => upstreams.details(id, h, log)),
  )
  app.get(
    '/api/v1/products/:id/reviews',
    api((id, h, log) => upstreams.reviews(id, h, log)),
  )
  app.get(
    '/api/v1/products/:id/ratings',
    api((id, h, log) => upstreams.ratings(id, h, log)),
  )

  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  )
  return app
}

/** Builds productpage and listens (port default 9080, 0 for any). */
export function startProductpage(options: ProductpageOptions & ListenOptions = {}): Promise<StartedApp> {
  return listenApp(buildProductpageApp(options), options)
}
