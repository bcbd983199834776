import Fastify, { type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { ControlPlaneError } from '../errors.ts'
import type { ConfigSnapshot } from '../snapshot.ts'
import type { DiscoveryServer } from '../xds/server.ts'
import { configDump, configz, registryz, syncz } from './debug.ts'
import type { Metrics } from './metrics.ts'

export interface MonitoringOptions {
  metrics: Metrics
  discovery: DiscoveryServer
  snapshot(): ConfigSnapshot | undefined
  ready(): boolean
  /** `directory:/path` or `kubernetes:https://…` */
  source: string
  logger?: Logger
}

/**
 * The monitoring and debug HTTP server (15014): /metrics, /healthz/ready, /debug/syncz,
 * /debug/configz, /debug/registryz, /debug/config_dump?proxy=ID.
 */
export function createMonitoringServer(options: MonitoringOptions): FastifyInstance {
  const app = Fastify({ logger: false })
  app.get('/healthz/ready', async (_req, reply) => {
    if (options.ready()) return reply.type('text/plain').send('ok\n')
    return reply
      .code(503)
      .type('text/plain')
      .send('not ready: the first configuration snapshot is not built yet\n')
  })
  app.get('/metrics', async (_req, reply) => {
    reply.type(options.metrics.registry.contentType)
    return options.metrics.registry.metrics()
  })
  app.get('/debug/syncz', async () => syncz(options.discovery))
  app.get<{ Querystring: { rejected?: string } }>('/debug/configz', async (req) =>
    configz(
      options.snapshot(),
      options.source,
      req.query.rejected !== undefined && req.query.rejected !== '0',
    ),
  )
  app.get('/debug/registryz', async () => registryz(options.snapshot()))
  app.get<{ Querystring: { proxy?: string } }>('/debug/config_dump', async (req, reply) => {
    const id = req.query.proxy
    if (!id) return reply.code(400).type('text/plain').send('missing ?proxy=<node id> (see /debug/syncz)\n')
    const dump = configDump(options.discovery, options.snapshot(), id)
    if (!dump) return reply.code(404).type('text/plain').send(`no connected proxy ${id} (see /debug/syncz)\n`)
    return dump
  })
  return app
}

/** Listens on `host:port`; resolves with the bound address. */
export async function listenMonitoring(app: FastifyInstance, address: string): Promise<string> {
  const { host, port } = splitAddress(address)
  try {
    await app.listen({ host, port })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new ControlPlaneError(
      code === 'EADDRINUSE' ? 'MESH_ERR_MESHD_PORT_IN_USE' : 'MESH_ERR_MESHD_LISTEN',
      `cannot listen for monitoring on ${address}: ${code === 'EADDRINUSE' ? 'address already in use' : (err as Error).message}`,
      { cause: err },
    )
  }
  const a = app.server.address()
  return typeof a === 'object' && a ? `${host}:${a.port}` : address
}

/** `host:port` → parts; `[::]:15010` style IPv6 accepted. */
export function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':')
  const host = address.slice(0, at).replace(/^\[(.*)\]$/, '$1')
  const port = Number(address.slice(at + 1))
  if (at <= 0 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new ControlPlaneError(
      'MESH_ERR_MESHD_ADDRESS',
      `bad address ${JSON.stringify(address)}: expected host:port`,
    )
  return { host, port }
}
