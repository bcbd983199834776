import type { AddressInfo } from 'node:net'
import { type FastifyBaseLogger, type FastifyInstance, fastify } from 'fastify'
import { BookinfoError } from './errors.ts'
import { silentLogger } from './logger.ts'

/**
 * A fastify instance as every Bookinfo app starts: logging to `logger` (default: nowhere), and
 * draining on close: once `close()` has begun, every response says `Connection: close`, so that
 * keep-alive clients (a sidecar's pool) let go and the close finishes when the last request does.
 */
export function createApp(logger?: FastifyBaseLogger): FastifyInstance {
  const app = fastify({ loggerInstance: logger ?? silentLogger() })
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close')
    return payload
  })
  return app
}

/** A Bookinfo app that is listening. */
export interface StartedApp {
  readonly app: FastifyInstance
  /** `http://<host>:<port>` as bound; 0.0.0.0 is reported as 127.0.0.1 so the URL can be called. */
  readonly url: string
  readonly port: number
  /** Stops accepting, lets requests in flight finish, closes idle connections and upstream pools. */
  close(): Promise<void>
}

export interface ListenOptions {
  /** Default 9080; 0 picks a free port. */
  readonly port?: number
  /** Default 0.0.0.0. */
  readonly host?: string
}

/** Listens with a built app and returns where it is. */
export async function listenApp(app: FastifyInstance, options: ListenOptions = {}): Promise<StartedApp> {
  const host = options.host ?? '0.0.0.0'
  try {
    await app.listen({ port: options.port ?? 9080, host })
  } catch (err) {
    await app.close()
    throw new BookinfoError('MESH_ERR_BOOKINFO_START', `cannot listen on ${host}:${options.port}`, {
      cause: err,
    })
  }
  const address = app.server.address() as AddressInfo
  const shown = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address
  return {
    app,
    port: address.port,
    url: `http://${shown.includes(':') ? `[${shown}]` : shown}:${address.port}`,
    close: () => app.close(),
  }
}
