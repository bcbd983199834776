// One upstream endpoint of a cluster: its address, labels, health, outlier state, and (made on
// first use) an undici Pool of keep-alive connections to it (HTTP/1.1, or h2c for http2 clusters).
import { createRequire } from 'node:module'
import type { LbEndpoint } from '@minimesh/api'
import type { Dispatcher, buildConnector as UndiciBuildConnector, Pool as UndiciPool } from 'undici'
import { tlsFailure, type UpstreamTls } from './tls.ts'

/**
 * undici's Pool alone: the package's index also loads fetch, WebSocket, caches and mocks
 * (~340 modules, ~12 MB of resident memory a proxy never uses). undici has no `exports` map, so
 * the file is reachable; its type is the one the index exports.
 */
const require = createRequire(import.meta.url)
const Pool = require('undici/lib/dispatcher/pool.js') as typeof UndiciPool
type Pool = UndiciPool
const buildConnector = require('undici/lib/core/connect.js') as typeof UndiciBuildConnector

/**
 * undici's TLS connector with the cluster's certificates, offering only HTTP/1.1 (ALPN). A TLS
 * alert that arrives after the handshake (TLS 1.3: the server refused our client certificate)
 * counts as a failed connection, and becomes the `cause` of the "other side closed" error undici
 * then fails the request with.
 */
function tlsConnector(
  tls: UpstreamTls,
  timeout: number,
  onFailure: () => void,
): UndiciBuildConnector.connector {
  const inner = buildConnector({
    ...tls.options,
    ...(tls.servername ? { servername: tls.servername } : {}),
    allowH2: false,
    timeout,
  } as UndiciBuildConnector.BuildOptions)
  return (opts, callback) =>
    inner(opts, (err, socket) => {
      if (socket) {
        let failure: Error | undefined
        socket.prependListener('error', (e: Error) => {
          if (!failure && tlsFailure(e)) {
            failure = e
            onFailure()
          } else if (failure && e.cause === undefined) e.cause = failure
        })
      }
      ;(callback as (e: Error | null, s: typeof socket) => void)(err, socket)
    })
}

export interface PoolSettings {
  connectTimeoutMs: number
  /** Keep-alive idle time of a pooled connection. */
  idleTimeoutMs: number
  /** Cap on connections to this endpoint (cluster maxConnections); undefined = no cap. */
  maxConnections: number | undefined
  /** Requests after which a connection is closed; undefined = unlimited. */
  maxRequestsPerConnection: number | undefined
  /** Speak HTTP/2 with prior knowledge (h2c) to the endpoint, not HTTP/1.1 (cluster protocol http2). */
  http2: boolean
  /** Connection events, for the cluster's counters. */
  onConnect: () => void
  onDisconnect: () => void
  onConnectFail: () => void
  /** TLS origination (HTTP/1.1 over TLS); absent = plaintext. */
  tls?: UpstreamTls | undefined
}

export class Host {
  readonly address: string
  readonly port: number
  readonly key: string
  endpoint: LbEndpoint
  /** In-flight requests on this host (LEAST_REQUEST). */
  active = 0
  requests = 0
  errors = 0
  // Outlier detection state.
  consecutive5xx = 0
  consecutiveGatewayErrors = 0
  ejected = false
  ejectionCount = 0
  ejectedUntil = 0
  /** Last time a request was sent (ORIGINAL_DST clusters sweep idle hosts). */
  lastUsed = 0
  private pool: Pool | undefined
  private readonly settings: PoolSettings

  constructor(endpoint: LbEndpoint, settings: PoolSettings) {
    this.endpoint = endpoint
    this.address = endpoint.address
    this.port = endpoint.port
    this.key = hostKey(endpoint.address, endpoint.port)
    this.settings = settings
  }

  get healthy(): boolean {
    return this.endpoint.health === 'HEALTHY'
  }

  /** Available for load balancing: healthy and not ejected. */
  get available(): boolean {
    return !this.ejected && this.endpoint.health === 'HEALTHY'
  }

  get origin(): string {
    const scheme = this.settings.tls ? 'https' : 'http'
    return this.address.includes(':')
      ? `${scheme}://[${this.address}]:${this.port}`
      : `${scheme}://${this.address}:${this.port}`
  }

  /**
   * Sends a request on this endpoint's pool. Over TLS the SNI is the cluster's, not one derived
   * from each request's Host (undici's default, which would also reconnect when Hosts differ).
   */
  dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const servername = this.settings.tls?.servername
    if (servername) (opts as Dispatcher.DispatchOptions & { servername?: string }).servername = servername
    return this.getPool().dispatch(opts, handler)
  }

  /** The keep-alive pool to this endpoint, made on first use. */
  private getPool(): Pool {
    if (this.pool) return this.pool
    const s = this.settings
    const tls = s.tls
    const pool = new Pool(this.origin, {
      connections: s.maxConnections ?? null,
      pipelining: 1,
      keepAliveTimeout: s.idleTimeoutMs,
      keepAliveMaxTimeout: Math.max(s.idleTimeoutMs, 1000),
      keepAliveTimeoutThreshold: 200,
      headersTimeout: 0,
      bodyTimeout: 0,
      connectTimeout: s.connectTimeoutMs,
      maxRequestsPerClient: s.maxRequestsPerConnection || undefined,
      strictContentLength: false,
      // Over TLS: HTTP/1.1 only (ALPN), with the cluster's certificates and checks; an http2
      // cluster over TLS is sent HTTP/1.1 too. Cleartext http2 clusters: h2c with prior knowledge.
      ...(tls
        ? { allowH2: false, connect: tlsConnector(tls, s.connectTimeoutMs, s.onConnectFail) }
        : s.http2
          ? { allowH2: true, useH2c: true }
          : {}),
    })
    pool.on('connect', s.onConnect)
    pool.on('disconnect', s.onDisconnect)
    pool.on('connectionError', s.onConnectFail)
    this.pool = pool
    return pool
  }

  /** Closes the pool once its in-flight requests are done (config swaps never cut requests). */
  async close(): Promise<void> {
    const p = this.pool
    this.pool = undefined
    if (p) await p.close().catch(() => undefined)
  }

  /** Closes the pool now, failing what is in flight (shutdown deadline passed). */
  async destroy(): Promise<void> {
    const p = this.pool
    this.pool = undefined
    if (p) await p.destroy().catch(() => undefined)
  }
}

export function hostKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`
}
