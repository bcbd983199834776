// One request's state as it goes through the stages: the downstream ends (how the request came
// and where the answer goes), what the stages learn (headers and facts, route, cluster, target,
// load-balancing key, body) and the record kept for metrics and the access log. A class, so
// every request has the same shape; fields a stage does not reach stay undefined.
import { Http2ServerResponse } from 'node:http2'
import type { Duplex, Readable } from 'node:stream'
import type { ClusterRuntime } from '../cluster/cluster.ts'
import type { ProxyContext } from '../context.ts'
import type { DownstreamRequest, DownstreamResponse } from '../http/downstream.ts'
import { newFacts, type RequestHeaderFacts } from '../http/headers.ts'
import type { RequestRecord } from '../http/record.ts'
import type { CompiledRetry } from '../http/retry.ts'
import type { ConnContext } from '../listeners/conn.ts'
import type { RequestView } from '../routing/match.ts'
import type { CompiledRoute, CompiledWeighted } from '../routing/select.ts'
import type { ActiveSpan } from '../tracing/span.ts'
import { finishSpan } from './tracing.ts'

export function newRecord(
  conn: ConnContext,
  req: { method?: string | undefined; url?: string | undefined; httpVersion: string },
): RequestRecord {
  return {
    startMs: performance.now(),
    startTime: Date.now(),
    direction: conn.direction,
    method: req.method ?? 'GET',
    path: req.url ?? '/',
    authority: '',
    protocol: req.httpVersion === '2.0' ? 'HTTP/2' : `HTTP/${req.httpVersion}`,
    status: 0,
    flags: '',
    bytesReceived: 0,
    bytesSent: 0,
    requestId: '',
    userAgent: undefined,
    forwardedFor: undefined,
    downstreamRemote: conn.remoteAddress,
    routeName: undefined,
    upstreamCluster: undefined,
    upstreamHost: undefined,
    upstreamServiceTimeMs: undefined,
    attempts: 0,
    grpc: false,
    source: undefined,
    destinationService: undefined,
    destinationWorkload: undefined,
    destinationVersion: undefined,
    downstreamPeerPrincipal: conn.peerPrincipal,
    downstreamSecurity: conn.security,
    upstreamPeerPrincipal: undefined,
  }
}

/** The client side of an Upgrade: its socket and the bytes that came after the request head. */
export interface TunnelEnd {
  socket: Duplex
  head: Buffer
}

export class RequestState {
  readonly ctx: ProxyContext
  readonly conn: ConnContext
  readonly req: DownstreamRequest
  /** Where an HTTP answer goes (HTTP/1.x or HTTP/2); undefined for an Upgrade. */
  readonly res: DownstreamResponse | undefined
  /** Where an Upgrade's answer goes (raw HTTP/1.1, then the tunnel); undefined otherwise. */
  readonly tunnel: TunnelEnd | undefined
  readonly rec: RequestRecord
  readonly facts: RequestHeaderFacts = newFacts()
  /** Upstream request headers, flat and lower-case (hop-by-hop dropped, proxy headers added). */
  headers: string[] = []
  /** What routes match against. */
  view: RequestView | undefined
  route: CompiledRoute | undefined
  weighted: CompiledWeighted | undefined
  cluster: ClusterRuntime | undefined
  /** Upstream request target (path and query, after any rewrite). */
  path: string
  /** Consistent-hash key (RING_HASH clusters). */
  hash: number | undefined
  /** A cookie made for consistent hashing, sent back with the response. */
  setCookie: string | undefined
  /** Buffered (retriable) body, a stream, or none. */
  body: Buffer | Readable | null = null
  /** For a streamed body: its bytes once it has ended within the copy limit (a retry may replay them). */
  replay: (() => Buffer | undefined) | undefined
  retry: CompiledRetry | undefined
  /** The HTTP exchange with the cluster, once dispatched (told when the client goes away). */
  exchange: { onDownstreamClose(): void } | undefined
  /** This proxy's span when the request is sampled (tracing on). */
  span: ActiveSpan | undefined
  private finished = false

  constructor(
    ctx: ProxyContext,
    conn: ConnContext,
    req: DownstreamRequest,
    res: DownstreamResponse | undefined,
    tunnel: TunnelEnd | undefined,
  ) {
    this.ctx = ctx
    this.conn = conn
    this.req = req
    this.res = res
    this.tunnel = tunnel
    this.rec = newRecord(conn, req)
    this.path = req.url ?? '/'
    ctx.inflight++
  }

  /** Has the client gone (connection closed, stream reset)? */
  gone(): boolean {
    const res = this.res
    if (res) return res instanceof Http2ServerResponse ? res.stream.destroyed : res.destroyed
    return this.tunnel!.socket.destroyed
  }

  /** The downstream end closed: an exchange still running is told first, so DC is in the record. */
  closed(): void {
    this.exchange?.onDownstreamClose()
    this.finish()
  }

  /** Records the request once it is over (metrics, access log) and lets draining count it out. */
  finish(): void {
    if (this.finished) return
    this.finished = true
    const ctx = this.ctx
    ctx.inflight--
    const duration = performance.now() - this.rec.startMs
    ctx.metrics.record(this.rec, duration)
    if (ctx.accessLog.enabled) ctx.accessLog.write(this.rec, duration)
    if (this.span !== undefined) finishSpan(this, duration)
  }
}
