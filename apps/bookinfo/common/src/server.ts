import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { BookinfoError } from './errors.ts'

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
    throw new BookinfoError('MESH_ERR_BOOKINFO_START', `cannot listen on ${host}:${options.port}`, { cause: err })
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
