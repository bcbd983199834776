// The admission webhook server: fastify over HTTPS, `/inject` (mutating) and `/validate`
// (validating), AdmissionReview admission.k8s.io/v1. A well-formed review is answered with HTTP 200
// (a denial carries its status in the review); a malformed one gets a 400 with a reason; nothing a
// client sends can take the server down. The serving certificate is reloaded when its files change.
import type { AddressInfo } from 'node:net'
import type { Server as TlsServer } from 'node:tls'
import { statusOf } from '@minimesh/api/errors'
import Fastify, { type FastifyError } from 'fastify'
import { type Logger, pino } from 'pino'
import { type InjectConfig, resolveInjectConfig } from '../config.ts'
import { InjectError } from '../errors.ts'
import { admitPod, type NamespaceLookup } from './mutate.ts'
import { parseReview, review } from './review.ts'
import { readKeyPair, watchCertificate } from './tls.ts'
import { admitMeshResource } from './validate.ts'

export interface WebhookServerOptions {
  certFile: string
  keyFile: string
  config?: Partial<InjectConfig>
  /** Labels of a namespace for the injection policy (meshd passes its registry's); see NamespaceLookup. */
  namespaceLookup?: NamespaceLookup
  logger?: Logger
  /** Largest review accepted, in bytes (default 1 MiB); larger ones get a 413. */
  bodyLimit?: number
}

export interface WebhookStats {
  injected: number
  skipped: number
  denied: number
  validated: number
  rejected: number
  badRequests: number
}

export interface WebhookServer {
  /** Starts serving; resolves with the bound address. Port 0 picks a free one. */
  listen(port?: number, host?: string): Promise<AddressInfo>
  /** Stops accepting, finishes in-flight reviews, stops watching the certificate. */
  close(): Promise<void>
  /** The bound address once listening. */
  readonly address: AddressInfo | undefined
  /** Re-reads the certificate files now (they are also watched); true when a new pair was installed. */
  reloadCertificate(): boolean
  stats(): WebhookStats
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 413: 'Payload Too Large' }

export function createWebhookServer(options: WebhookServerOptions): WebhookServer {
  const logger = options.logger ?? pino({ name: 'minimesh-injector' })
  const config = resolveInjectConfig(options.config)
  const pair = readKeyPair(options.certFile, options.keyFile)
  const stats: WebhookStats = {
    injected: 0,
    skipped: 0,
    denied: 0,
    validated: 0,
    rejected: 0,
    badRequests: 0,
  }
  const app = Fastify({
    https: { key: pair.key, cert: pair.cert },
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    logger: false,
    requestTimeout: 30_000,
    return503OnClosing: true,
  })
  const certs = watchCertificate(
    options.certFile,
    options.keyFile,
    pair,
    (p) => (app.server as TlsServer).setSecureContext(p),
    logger,
  )
  // AdmissionReviews are JSON; anything else is refused before a handler sees it.
  app.removeContentTypeParser('text/plain')
  const deps = { config, namespaceLookup: options.namespaceLookup, logger }

  app.post('/inject', async (request) => {
    const req = parseReview(request.body)
    const { response, outcome } = await admitPod(req, deps)
    stats[outcome]++
    return review(response)
  })
  app.post('/validate', async (request) => {
    const req = parseReview(request.body)
    const { response, denied } = admitMeshResource(req)
    if (denied) {
      stats.rejected++
      logger.info({ kind: req.kind.kind, namespace: req.namespace, name: req.name }, 'mesh resource rejected')
    } else stats.validated++
    return review(response)
  })
  app.get('/healthz/ready', async () => 'ok\n')

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: 'Not Found', reason: `no route ${request.method} ${request.url}` })
  })
  app.setErrorHandler((err: FastifyError | InjectError, request, reply) => {
    // Ours: the status declared beside the code (500 where none is); fastify's: its statusCode.
    let status = err instanceof InjectError ? statusOf(err) : (err.statusCode ?? 500)
    let reason = err.message
    // A body that is not JSON (wrong content type) is as malformed as bad JSON.
    if (status === 415) {
      status = 400
      reason = `content-type ${request.headers['content-type'] ?? '(none)'} is not supported; send application/json`
    }
    if (status >= 500) {
      logger.error({ err, url: request.url }, 'admission failed')
      reply
        .code(500)
        .send({ error: 'Internal Server Error', reason: 'admission failed; see the webhook log' })
      return
    }
    stats.badRequests++
    logger.warn({ url: request.url, status, code: err.code, reason }, 'bad admission request')
    reply.code(status).send({ error: STATUS_TEXT[status] ?? 'Bad Request', code: err.code, reason })
  })

  return {
    async listen(port = 15017, host = '0.0.0.0') {
      await app.listen({ port, host })
      const addr = app.server.address() as AddressInfo
      logger.info({ address: addr.address, port: addr.port }, 'webhook serving')
      return addr
    },
    async close() {
      certs.close()
      await app.close()
    },
    get address() {
      const a = app.server.address()
      return a && typeof a === 'object' ? a : undefined
    },
    reloadCertificate: () => certs.reload(),
    stats: () => ({ ...stats }),
  }
}
