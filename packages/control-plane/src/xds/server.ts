import { EventEmitter } from 'node:events'
import { hostname } from 'node:os'
import * as grpc from '@grpc/grpc-js'
import {
  type DiscoveryRequest,
  type DiscoveryResponse,
  loadDiscoveryProto,
  TYPE_ORDER,
  TypeUrl,
} from '@minimesh/api'
import type { Logger } from 'pino'
import { ControlPlaneError } from '../errors.ts'
import type { Metrics } from '../monitoring/metrics.ts'
import type { ConfigSnapshot } from '../snapshot.ts'
import { type PushContext, pushContextOf } from '../translate/context.ts'
import { generate } from '../translate/index.ts'
import { proxyFromNode } from '../translate/proxy.ts'
import { Connection, type DiscoveryCall } from './connection.ts'
import { installZeroCopyFraming } from './framing.ts'
import { PushQueue } from './push-queue.ts'
import { ResponseCache, typeHash } from './resources.ts'

const TYPES = new Set<string>(Object.values(TypeUrl))

export interface DiscoveryServerOptions {
  logger?: Logger
  metrics?: Metrics
  /** Proxies pushed to at once. Default 100 (Istio's PILOT_PUSH_THROTTLE). */
  concurrency?: number
  /** How long a push waits for a slow proxy's socket before freeing its slot. Default 5 s. */
  writeTimeoutMs?: number
  /** Server keepalive ping interval and ack timeout. Defaults 30 s and 10 s. */
  keepaliveTimeMs?: number
  keepaliveTimeoutMs?: number
  /** Streams are closed (GOAWAY) after this age so proxies rebalance. Default 30 min; grace 10 s. */
  maxConnectionAgeMs?: number
  maxConnectionAgeGraceMs?: number
  controlPlaneId?: string
  /**
   * 'gzip': compress responses to clients known to accept it, each distinct response once (level 1,
   * ~10x smaller for route tables), the bytes shared like the uncompressed frame. Saves network, costs
   * each proxy a decompression. Default 'identity' (off): on loopback it does not pay (bench/README).
   */
  compression?: 'gzip' | 'identity'
}

/** Events: `ack` {proxyId, typeUrl, version, at}, `nack` {proxyId, typeUrl, message}, `connect`/`disconnect` (proxyId). */
export interface AckEvent {
  proxyId: string
  typeUrl: TypeUrl
  version: string
  /** performance.now() when the ACK arrived. */
  at: number
}

/**
 * The discovery server: xDS over one gRPC stream per proxy, state of the world or, for proxies
 * that ask for it, incremental after the first response of each type. Configuration
 * is generated per proxy from the current snapshot; a proxy is sent a type only when its hash for
 * that type changed, at most one response per type is in flight (newer state waits for the ACK or
 * NACK, and then only the newest is sent), and pushes run through a bounded queue whose slots a
 * slow proxy holds for at most `writeTimeoutMs`.
 */
export class DiscoveryServer extends EventEmitter {
  readonly connections = new Map<string, Connection>()
  private readonly log?: Logger
  private readonly metrics?: Metrics
  private readonly writeTimeoutMs: number
  private readonly controlPlaneId: string
  private readonly queue: PushQueue<Connection>
  private readonly framed = installZeroCopyFraming()
  private readonly compression: 'gzip' | 'identity'
  private readonly server: grpc.Server
  private ctx?: PushContext
  private cache?: ResponseCache
  /** performance.now() of the first configuration event behind the current snapshot. */
  private changeAt?: number
  /** Version of the current snapshot (each push records it on the connection it generates for). */
  private snapshotVersion?: number
  /** Generation problems already logged. */
  private readonly warned = new Set<string>()

  constructor(options: DiscoveryServerOptions = {}) {
    super()
    this.log = options.logger
    this.metrics = options.metrics
    this.writeTimeoutMs = options.writeTimeoutMs ?? 5000
    this.controlPlaneId = options.controlPlaneId ?? `meshd-${hostname()}-${process.pid}`
    this.compression = options.compression ?? 'identity'
    this.queue = new PushQueue(options.concurrency ?? 100, (c) => this.push(c))
    this.server = new grpc.Server({
      'grpc.keepalive_time_ms': options.keepaliveTimeMs ?? 30_000,
      'grpc.keepalive_timeout_ms': options.keepaliveTimeoutMs ?? 10_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 5_000,
      'grpc.max_connection_age_ms': options.maxConnectionAgeMs ?? 30 * 60_000,
      'grpc.max_connection_age_grace_ms': options.maxConnectionAgeGraceMs ?? 10_000,
    })
    const definition = loadDiscoveryProto().minimesh.discovery.v1.DiscoveryService.service
    const method = definition.StreamResources
    // Responses are serialized once and shared by every proxy that needs the same content.
    const passthrough = {
      ...definition,
      StreamResources: {
        ...method,
        responseSerialize: (v: DiscoveryResponse | Buffer) =>
          Buffer.isBuffer(v) ? v : method.responseSerialize(v),
      },
    }
    this.server.addService(passthrough, { StreamResources: (call: DiscoveryCall) => this.stream(call) })
  }

  /** The gRPC server, to add more services (quota) before listening. */
  get grpcServer(): grpc.Server {
    return this.server
  }

  /**
   * Binds `host:port` (plaintext, or TLS with `credentials`: 15012); resolves with the bound
   * address (port 0 picks one). Every bound port serves every added service.
   */
  listen(address: string, credentials = grpc.ServerCredentials.createInsecure()): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(address, credentials, (err, port) => {
        if (err) {
          const inUse = /EADDRINUSE|address already in use|No address added/i.test(err.message)
          reject(
            new ControlPlaneError(
              inUse ? 'MESH_ERR_MESHD_PORT_IN_USE' : 'MESH_ERR_MESHD_LISTEN',
              `cannot listen for discovery on ${address}: ${inUse ? 'address already in use' : err.message}`,
              { cause: err },
            ),
          )
          return
        }
        const host = address.slice(0, address.lastIndexOf(':'))
        resolve(`${host}:${port}`)
      })
    })
  }

  /** Makes `snapshot` current and schedules a push to every connected proxy (only changes are sent). */
  setSnapshot(snapshot: ConfigSnapshot, changeAt?: number): void {
    this.ctx = pushContextOf(snapshot)
    this.cache = new ResponseCache(snapshot.version, this.controlPlaneId)
    this.changeAt = changeAt
    this.snapshotVersion = snapshot.version
    for (const c of this.connections.values()) this.queue.add(c)
  }

  get context(): PushContext | undefined {
    return this.ctx
  }

  /** Resolves when no push waits or runs. */
  idle(): Promise<void> {
    return this.queue.idle()
  }

  async close(): Promise<void> {
    for (const c of this.connections.values()) {
      c.closed = true
      c.call.end()
    }
    this.connections.clear()
    this.metrics?.connected.set(0)
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown()
        resolve()
      }, 2000)
      this.server.tryShutdown(() => {
        clearTimeout(force)
        resolve()
      })
    })
  }

  private stream(call: DiscoveryCall): void {
    let conn: Connection | undefined
    // Compressed frames need zero-copy framing (grpc-js itself only writes uncompressed ones).
    const gzip = this.framed && this.compression === 'gzip' && acceptsGzip(call.metadata)
    if (gzip) {
      const headers = new grpc.Metadata()
      headers.set('grpc-encoding', 'gzip')
      call.sendMetadata(headers)
    }
    const finish = () => {
      if (!conn || conn.closed) return
      conn.closed = true
      this.queue.delete(conn)
      if (this.connections.get(conn.proxy.id) === conn) {
        this.connections.delete(conn.proxy.id)
        this.metrics?.connected.set(this.connections.size)
      }
      this.log?.info({ proxy: conn.proxy.id }, 'xds: proxy disconnected')
      this.emit('disconnect', conn.proxy.id)
    }
    call.on('data', (req: DiscoveryRequest) => {
      if (!conn) {
        try {
          conn = new Connection(proxyFromNode(req.node), call, gzip)
        } catch (err) {
          this.log?.warn(
            { err: (err as Error).message, peer: call.getPeer() },
            'xds: stream without a usable node',
          )
          call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: (err as Error).message })
          return
        }
        const old = this.connections.get(conn.proxy.id)
        if (old) {
          old.closed = true
          this.queue.delete(old)
          old.call.end()
        }
        this.connections.set(conn.proxy.id, conn)
        this.metrics?.connected.set(this.connections.size)
        this.log?.info({ proxy: conn.proxy.id, peer: conn.peer }, 'xds: proxy connected')
        this.emit('connect', conn.proxy.id)
      }
      this.request(conn, req)
    })
    call.on('end', () => {
      finish()
      call.end()
    })
    call.on('cancelled', finish)
    call.on('error', finish)
    call.on('close', finish)
  }

  private request(conn: Connection, req: DiscoveryRequest): void {
    const type = req.type_url as TypeUrl
    if (!TYPES.has(type)) {
      this.log?.warn(
        { proxy: conn.proxy.id, type: req.type_url },
        'xds: request for a type minimesh does not serve',
      )
      return
    }
    const st = conn.state(type)
    const nonce = req.response_nonce ?? ''
    if (!nonce) {
      // A (re)subscription: send the current state of the world.
      st.subscribed = true
      st.incremental = req.incremental === true
      st.sentHash = undefined
      st.sentGroups = undefined
      st.acked = undefined
      st.inflight = false
      this.queue.add(conn)
      return
    }
    if (nonce !== st.sentNonce) {
      this.log?.debug({ proxy: conn.proxy.id, type, nonce }, 'xds: stale nonce ignored')
      return
    }
    st.inflight = false
    const now = performance.now()
    if (req.error_detail) {
      const message = req.error_detail.message ?? ''
      st.lastNack = { version: st.sentVersion ?? '', nonce, message, at: Date.now() }
      this.metrics?.nacks.inc({ type: shortType(type) })
      this.log?.warn(
        { proxy: conn.proxy.id, type: shortType(type), version: st.sentVersion, message },
        'xds: proxy rejected configuration (NACK)',
      )
      this.emit('nack', { proxyId: conn.proxy.id, typeUrl: type, message })
    } else {
      // What the proxy now has: incremental responses are computed from it.
      if (st.sentGroups && st.sentHash) st.acked = { list: st.sentGroups, hash: st.sentHash }
      st.ackedVersion = req.version_info ?? ''
      st.ackedAt = Date.now()
      if (st.changeAt !== undefined) this.metrics?.convergence.observe((now - st.changeAt) / 1000)
      this.emit('ack', {
        proxyId: conn.proxy.id,
        typeUrl: type,
        version: st.ackedVersion,
        at: now,
      } satisfies AckEvent)
    }
    if (st.pending) this.queue.add(conn)
  }

  /** Logs each problem generation found (a Gateway server left out for its Secret) once. */
  private reportWarnings(ctx: PushContext): void {
    for (const [key, message] of ctx.warnings) {
      const id = `${key}\0${message}`
      if (this.warned.has(id)) continue
      if (this.warned.size > 10_000) this.warned.clear()
      this.warned.add(id)
      this.log?.warn({ about: key }, message)
    }
  }

  /** Generates the proxy's configuration and sends each subscribed type whose content changed. */
  private async push(conn: Connection): Promise<void> {
    const ctx = this.ctx
    const cache = this.cache
    if (!ctx || !cache || conn.closed) return
    const generated = generate(ctx, conn.proxy)
    conn.snapshotVersion = this.snapshotVersion
    this.reportWarnings(ctx)
    const writes: Promise<void>[] = []
    let held = false
    for (const type of TYPE_ORDER) {
      const st = conn.types.get(type)
      if (!st?.subscribed) continue
      const groups = generated[type]
      const hash = typeHash(type, groups)
      if (hash === st.sentHash) {
        st.pending = false
        continue
      }
      // One response per type in flight; later types wait too, so that a proxy never gets routes
      // before the clusters they name.
      if (st.inflight || held) {
        st.pending = true
        held = true
        continue
      }
      // After the first accepted response, a proxy that takes them gets only the changes.
      const prepared =
        st.incremental && st.acked
          ? cache.delta(type, st.acked, { list: groups, hash }, st.sentNonce)
          : cache.get(type, groups, hash, st.sentNonce)
      st.sentHash = hash
      st.sentGroups = groups
      st.sentVersion = prepared.version
      st.sentNonce = prepared.nonce
      st.sentAt = Date.now()
      st.inflight = true
      st.pending = false
      st.pushes++
      st.changeAt = this.changeAt
      writes.push(conn.write(prepared, this.framed))
      this.metrics?.pushes.inc({ type: shortType(type) })
      if (this.changeAt !== undefined)
        this.metrics?.pushTime.observe({ type: shortType(type) }, (performance.now() - this.changeAt) / 1000)
      this.log?.debug(
        {
          proxy: conn.proxy.id,
          type: shortType(type),
          version: prepared.version,
          resources: prepared.resources,
          ...(prepared.incremental ? { incremental: true, removed: prepared.removed } : {}),
        },
        'xds: push',
      )
    }
    if (writes.length === 0) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.all(writes),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.writeTimeoutMs)
      }),
    ])
    clearTimeout(timer)
  }
}

/**
 * Whether the client decompresses gzip responses. grpc-js removes `grpc-accept-encoding` from the
 * metadata it hands to handlers, so this goes by what is left: an explicit header if some version
 * keeps it, else the user agent: every grpc-js client (our proxy's) announces
 * `grpc-accept-encoding: identity,deflate,gzip` on each call and decompresses per `grpc-encoding`.
 */
export function acceptsGzip(metadata: grpc.Metadata): boolean {
  const accept = metadata.get('grpc-accept-encoding')[0]
  if (typeof accept === 'string') return accept.split(',').some((e) => e.trim() === 'gzip')
  const agent = metadata.get('user-agent')[0]
  return typeof agent === 'string' && /(^|\s)grpc-node-js\/\d/.test(agent)
}

/** `Cluster` for `type.minimesh.dev/minimesh.config.v1.Cluster`. */
export function shortType(type: string): string {
  return type.slice(type.lastIndexOf('.') + 1)
}
