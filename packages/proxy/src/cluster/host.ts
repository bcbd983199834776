// One upstream endpoint of a cluster: its address, labels, health, outlier state, and (made on
// first use) an undici Pool of keep-alive connections to it (HTTP/1.1, or h2c for http2 clusters).
// Mesh mTLS (ISTIO_MUTUAL, auto mTLS to sidecar endpoints) has a pool of its own, made per
// workload certificate: plaintext and mTLS connections never mix, and after a rotation new
// requests go to a pool with the new certificate while the old one finishes what it carries.
import { createRequire } from 'node:module'
import type { SecureContext } from 'node:tls'
import type { Cluster, LbEndpoint } from '@minimesh/api'
import type { Dispatcher, buildConnector as UndiciBuildConnector, Pool as UndiciPool } from 'undici'
import { type CertificateStore, principalOf } from '../identity/certificates.ts'
import { H1Pool } from './h1-pool.ts'
import {
  CLIENT_ALPN,
  endpointWantsMeshTls,
  expectedPeerIds,
  type MeshTlsPolicy,
  meshConnectOptions,
  peerPrincipalOf,
} from './mesh-tls.ts'
import { tlsFailure, type UpstreamTls } from './tls.ts'

/**
 * undici's Pool alone: the package's index also loads fetch, WebSocket, caches and mocks
 * (~340 modules, ~12 MB of resident memory a proxy never uses). undici has no `exports` map, so
 * the file is reachable; its type is the one the index exports. Loaded on first use: a proxy
 * whose upstreams are all plaintext HTTP/1.1 (h1-pool.ts) never needs it.
 */
const require = createRequire(import.meta.url)
type Pool = UndiciPool
let undici: { Pool: typeof UndiciPool; buildConnector: typeof UndiciBuildConnector } | undefined
function loadUndici(): NonNullable<typeof undici> {
  undici ??= {
    Pool: require('undici/lib/dispatcher/pool.js') as typeof UndiciPool,
    buildConnector: require('undici/lib/core/connect.js') as typeof UndiciBuildConnector,
  }
  return undici
}

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
  const inner = loadUndici().buildConnector({
    ...tls.options,
    ...(tls.servername ? { servername: tls.servername } : {}),
    allowH2: false,
    timeout,
  } as UndiciBuildConnector.BuildOptions)
  return (opts, callback) =>
    inner(opts, (err, socket) => {
      if (socket) watchTlsAlerts(socket, onFailure)
      ;(callback as (e: Error | null, s: typeof socket) => void)(err, socket)
    })
}

/**
 * Marks TLS failures on a connected socket: a TLS alert after the handshake (TLS 1.3: the server
 * refused our client certificate) counts as a failed connection and becomes the `cause` of the
 * "other side closed" error undici then fails the request with.
 */
function watchTlsAlerts(
  socket: NonNullable<Parameters<UndiciBuildConnector.Callback>[1]>,
  onFailure: () => void,
) {
  let failure: Error | undefined
  socket.prependListener('error', (e: Error) => {
    if (!failure && tlsFailure(e)) {
      failure = e
      onFailure()
    } else if (failure && e.cause === undefined) e.cause = failure
  })
}

/** A connector for undici: mesh mTLS to one host, with this workload's certificate. */
function meshConnector(
  host: Host,
  secureContext: SecureContext,
  cluster: Cluster,
  alpn: readonly string[],
  timeout: number,
  onFailure: () => void,
): UndiciBuildConnector.connector {
  const tls = process.getBuiltinModule('node:tls')
  return (_opts, callback) => {
    const cb = callback as (e: Error | null, s: ReturnType<typeof tls.connect> | null) => void
    const socket = tls.connect({
      host: host.address,
      port: host.port,
      ...meshConnectOptions(secureContext, cluster, host.endpoint, alpn),
    })
    socket.setNoDelay(true)
    let done = false
    const timer = setTimeout(() => {
      socket.destroy(
        Object.assign(new Error(`connect timeout (${timeout} ms)`), { code: 'UND_ERR_CONNECT_TIMEOUT' }),
      )
    }, timeout)
    socket.once('secureConnect', () => {
      clearTimeout(timer)
      done = true
      host.peerPrincipal = peerPrincipalOf(socket) ?? host.peerPrincipal
      watchTlsAlerts(socket, onFailure)
      cb(null, socket)
    })
    socket.once('error', (err) => {
      clearTimeout(timer)
      if (done) return
      done = true
      // The pool counts the failed connection ('connectionError').
      cb(err, null)
    })
  }
}

/** Mesh mTLS settings of a cluster's hosts. */
interface MeshTlsSettings {
  policy: MeshTlsPolicy
  certs: CertificateStore
  cluster: Cluster
  /** A request that wanted mTLS went plaintext: no certificate yet. */
  onNoCertificate: () => void
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
  /** Mesh mTLS (when `tls` is absent); absent = never. */
  mesh?: MeshTlsSettings | undefined
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
  /** Plaintext HTTP/1.1 (h1-pool.ts): what most requests go over. */
  private h1: H1Pool | undefined
  /** The mesh mTLS pool, the certificate (secure context) and peer identity it was made for. */
  private meshPool: Pool | undefined
  private meshPoolKey: { context: SecureContext; ids: string } | undefined
  /** The principal the endpoint proved on the last mesh handshake. */
  peerPrincipal: string | undefined
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
   * The secure context of this workload's certificate when requests to this endpoint go over mesh
   * mTLS now; undefined for plaintext (not a mesh endpoint, or no certificate yet: then counted).
   */
  meshContext(): SecureContext | undefined {
    const m = this.settings.mesh
    if (!m || !this.wantsMeshTls) return undefined
    const context = m.certs.secureContext
    if (!context) m.onNoCertificate()
    return context
  }

  /** Requests to this endpoint want mesh mTLS (ISTIO_MUTUAL, or auto mTLS to a sidecar endpoint). */
  get wantsMeshTls(): boolean {
    const m = this.settings.mesh
    return m !== undefined && !this.settings.tls && endpointWantsMeshTls(m.policy, this.endpoint)
  }

  /** How requests to this endpoint go now: 'mutual_tls', or 'none' (plaintext, or no certificate yet). */
  get transport(): 'mutual_tls' | 'none' {
    return this.wantsMeshTls && this.settings.mesh?.certs.secureContext ? 'mutual_tls' : 'none'
  }

  /** The principal of the mesh peer behind this endpoint: the one it proved, else the one expected. */
  get expectedPrincipal(): string {
    if (this.peerPrincipal) return this.peerPrincipal
    const m = this.settings.mesh
    const ids = m && expectedPeerIds(m.cluster, this.endpoint)
    return ids?.length === 1 ? principalOf(ids[0]!) : 'unknown'
  }

  /**
   * Sends a request on this endpoint's pool. Over TLS the SNI is the cluster's, not one derived
   * from each request's Host (undici's default, which would also reconnect when Hosts differ).
   * Returns the peer's principal when the request goes over mesh mTLS, else undefined.
   */
  dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): string | undefined {
    const context = this.meshContext()
    if (context) {
      this.getMeshPool(context).dispatch(opts, handler)
      return this.expectedPrincipal
    }
    const s = this.settings
    if (s.tls === undefined && !s.http2 && opts.upgrade == null) {
      // Plaintext HTTP/1.1: the hand-written client (h1-pool.ts).
      this.getH1Pool().dispatch(opts, handler)
      return undefined
    }
    const servername = s.tls?.servername
    if (servername) (opts as Dispatcher.DispatchOptions & { servername?: string }).servername = servername
    this.getPool().dispatch(opts, handler)
    return undefined
  }

  /** Pool options every pool of this endpoint shares. */
  private poolOptions(): UndiciPool.Options {
    const s = this.settings
    return {
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
    }
  }

  /**
   * The mesh mTLS pool for this certificate and peer identity; a pool made for an older
   * certificate (rotation) or identity is closed once its in-flight requests are done.
   */
  private getMeshPool(context: SecureContext): Pool {
    const s = this.settings
    const m = s.mesh!
    const ids = expectedPeerIds(m.cluster, this.endpoint)?.join(',') ?? ''
    const key = this.meshPoolKey
    if (this.meshPool && key?.context === context && key.ids === ids) return this.meshPool
    const old = this.meshPool
    if (old) void old.close().catch(() => undefined)
    const origin = this.address.includes(':')
      ? `https://[${this.address}]:${this.port}`
      : `https://${this.address}:${this.port}`
    const pool = new (loadUndici().Pool)(origin, {
      ...this.poolOptions(),
      // HTTP/2 (gRPC) clusters negotiate h2 by ALPN; HTTP/1.1 ones offer only http/1.1.
      allowH2: s.http2,
      connect: meshConnector(
        this,
        context,
        m.cluster,
        s.http2 ? CLIENT_ALPN.http2 : CLIENT_ALPN.http,
        s.connectTimeoutMs,
        s.onConnectFail,
      ),
    })
    pool.on('connect', s.onConnect)
    pool.on('disconnect', s.onDisconnect)
    pool.on('connectionError', s.onConnectFail)
    this.meshPool = pool
    this.meshPoolKey = { context, ids }
    return pool
  }

  /** Plaintext HTTP/1.1 connections to this endpoint, made on first use. */
  private getH1Pool(): H1Pool {
    if (this.h1) return this.h1
    const s = this.settings
    this.h1 = new H1Pool({
      address: this.address,
      port: this.port,
      connectTimeoutMs: s.connectTimeoutMs,
      idleTimeoutMs: s.idleTimeoutMs,
      maxConnections: s.maxConnections ?? undefined,
      maxRequestsPerConnection: s.maxRequestsPerConnection || undefined,
      onConnect: s.onConnect,
      onDisconnect: s.onDisconnect,
      onConnectFail: s.onConnectFail,
    })
    return this.h1
  }

  /** The keep-alive pool to this endpoint, made on first use. */
  private getPool(): Pool {
    if (this.pool) return this.pool
    const s = this.settings
    const tls = s.tls
    const pool = new (loadUndici().Pool)(this.origin, {
      ...this.poolOptions(),
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
    const pools = [this.pool, this.meshPool, this.h1]
    this.pool = undefined
    this.meshPool = undefined
    this.h1 = undefined
    await Promise.all(pools.map((p) => p?.close().catch(() => undefined)))
  }

  /** Closes the pool now, failing what is in flight (shutdown deadline passed). */
  async destroy(): Promise<void> {
    const pools = [this.pool, this.meshPool, this.h1]
    this.pool = undefined
    this.meshPool = undefined
    this.h1 = undefined
    await Promise.all(pools.map((p) => p?.destroy().catch(() => undefined)))
  }
}

export function hostKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`
}
