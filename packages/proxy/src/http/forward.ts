// The HTTP dispatch stage's work: forwarding one request to its cluster: host choice, a lease
// of the cluster's connection pool per try, per-try and route timeouts, retries with backoff,
// and the response streamed back with backpressure. Each try is a small undici dispatch handler
// holding its lease; a try that is superseded (retry, timeout, client gone) is aborted and its
// callbacks ignored. Every answer the proxy makes itself goes through sendLocalReply. Response
// trailers (gRPC's grpc-status) are passed on to an HTTP/2 client; an HTTP/1.1 client does not
// get them (node:http would only send them in a chunked response the client rarely reads).
import { Http2ServerResponse } from 'node:http2'
import type { Dispatcher } from 'undici'
import type { PendingTicket } from '../cluster/circuit-breaker.ts'
import type { Host } from '../cluster/host.ts'
import { Lease, type LeaseWaiter, OVERFLOW_REASON } from '../cluster/lease.ts'
import { tlsFailure } from '../cluster/tls.ts'
import { sendLocalReply } from '../pipeline/local-reply.ts'
import type { RequestState } from '../pipeline/state.ts'
import { type DownstreamResponse, respondEnded } from './downstream.ts'
import { grpcStatusOf } from './grpc.ts'
import { applyHeaderOps, flattenResponseHeaders, flattenTrailers } from './headers.ts'
import { addFlag, Flag } from './record.ts'
import {
  backoffMs,
  type FailureKind,
  retriableFailure,
  retriableGrpcStatus,
  retriableStatus,
} from './retry.ts'

const ABORT_RETRY = Symbol('retry')
const ABORT_TIMEOUT = Symbol('timeout')
const ABORT_DOWNSTREAM = Symbol('downstream')

/**
 * On a 503 an inbound proxy answers itself because its app refused the connection:
 * `connect-failure`. Read (and removed) by the calling proxy, which retries it as a connect failure.
 */
export const UPSTREAM_FAILURE_HEADER = 'x-minimesh-upstream-failure'

function classify(err: unknown): FailureKind {
  // A failed TLS handshake is a failed connection (Envoy: connect-failure, flag UF).
  if (tlsFailure(err)) return 'connect-failure'
  const code = (err as { code?: string } | undefined)?.code
  switch (code) {
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENOTFOUND':
    case 'EADDRNOTAVAIL':
    case 'EAI_AGAIN':
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect-failure'
    default:
      return 'reset'
  }
}

class Attempt implements Dispatcher.DispatchHandler {
  readonly ex: Exchange
  readonly lease: Lease
  controller: Dispatcher.DispatchController | undefined
  abortedBy: symbol | undefined
  timer: NodeJS.Timeout | undefined

  constructor(ex: Exchange, lease: Lease) {
    this.ex = ex
    this.lease = lease
  }

  get host(): Host {
    return this.lease.host
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller
    if (this.abortedBy) controller.abort(new Error('superseded'))
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    status: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (this.abortedBy) return
    this.ex.onHeaders(this, status, headers)
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.abortedBy) return
    this.ex.onData(controller, chunk)
  }

  onResponseEnd(
    _controller: Dispatcher.DispatchController,
    trailers: Record<string, string | string[] | undefined>,
  ): void {
    if (this.abortedBy) return
    this.ex.onEnd(this, trailers)
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.abortedBy) {
      this.settle(undefined)
      return
    }
    this.ex.onError(this, err)
  }

  /** Gives the lease back once (feeding the outcome to outlier detection) and stops the per-try timer. */
  settle(outcome: Parameters<Lease['release']>[0]): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    this.lease.release(outcome)
  }

  abort(reason: symbol): void {
    if (this.abortedBy) return
    this.abortedBy = reason
    this.controller?.abort(new Error(reason.description))
  }
}

export class Exchange implements LeaseWaiter {
  private readonly s: RequestState
  private readonly res: DownstreamResponse
  private current: Attempt | undefined
  private tried: Set<Host> | undefined
  private retries = 0
  private routeTimer: NodeJS.Timeout | undefined
  /** Waiting for a slot of the cluster's connection pool. */
  private ticket: PendingTicket | undefined
  private finished = false
  private headersAt = 0
  /** Response head not written yet (a possible gRPC trailers-only response to an HTTP/2 client). */
  private heldHead: { status: number; flat: string[] } | undefined

  constructor(s: RequestState) {
    this.s = s
    this.res = s.res!
  }

  start(): void {
    const timeoutMs = this.s.route?.raw.route?.timeoutMs ?? 0
    if (timeoutMs > 0) this.routeTimer = setTimeout(() => this.onRouteTimeout(), timeoutMs)
    this.s.exchange = this
    this.tryOnce()
  }

  /** The client went away (its response closed) before the exchange was over: flag DC, stop the try. */
  onDownstreamClose(): void {
    if (this.finished) return
    addFlag(this.s.rec, Flag.DownstreamTermination)
    this.current?.abort(ABORT_DOWNSTREAM)
    this.finish()
  }

  private tryOnce(): void {
    if (this.finished) return
    const s = this.s
    const cluster = s.cluster!
    const host = cluster.choose(s.hash, s.conn.original, this.tried)
    if (!host) {
      this.reply(503, 'no healthy upstream', Flag.NoHealthyUpstream)
      return
    }
    const lease = Lease.acquire(cluster, host, this)
    if (lease instanceof Lease) this.send(lease)
    else if (lease) this.ticket = lease
    else this.reply(503, OVERFLOW_REASON, Flag.UpstreamOverflow)
  }

  /** A slot came free after waiting (LeaseWaiter). */
  granted(lease: Lease): void {
    this.ticket = undefined
    if (this.finished) lease.release()
    else this.send(lease)
  }

  private send(lease: Lease): void {
    const s = this.s
    const rec = s.rec
    const host = lease.host
    const attempt = new Attempt(this, lease)
    this.current = attempt
    rec.attempts++
    rec.upstreamHost = host.key
    if (s.conn.direction !== 'INBOUND') {
      rec.destinationWorkload = host.endpoint.workload ?? host.endpoint.labels?.app
      rec.destinationVersion = host.endpoint.labels?.version
    }
    lease.cluster.stats.upstream_rq_total++
    const perTry = s.retry?.perTryTimeoutMs ?? 0
    if (perTry > 0) attempt.timer = setTimeout(() => this.onPerTryTimeout(attempt), perTry)
    this.headersAt = performance.now()
    rec.upstreamPeerPrincipal = host.dispatch(
      { path: s.path, method: rec.method, headers: s.headers, body: s.body },
      attempt,
    )
  }

  /** Can this request be tried again (attempts left, retry budget free, client still there)? */
  private mayRetry(): boolean {
    const s = this.s
    const r = s.retry
    if (!r || this.finished || this.retries >= r.attempts) return false
    let body = s.body
    if (body !== null && !Buffer.isBuffer(body)) {
      // A streamed body can be sent again only if it has ended and its copy is whole.
      body = s.replay?.() ?? body
      if (!Buffer.isBuffer(body)) return false
    }
    const cluster = s.cluster!
    if (!cluster.breaker.tryRetry()) {
      cluster.stats.upstream_rq_retry_overflow++
      return false
    }
    s.body = body
    return true
  }

  private scheduleRetry(a: Attempt): void {
    const cluster = this.s.cluster!
    this.retries++
    cluster.stats.upstream_rq_retry++
    this.tried ??= new Set()
    this.tried.add(a.host)
    setTimeout(
      () => {
        cluster.breaker.retryDone()
        this.tryOnce()
      },
      backoffMs(this.s.retry!, this.retries),
    )
  }

  onHeaders(a: Attempt, status: number, headers: Record<string, string | string[] | undefined>): void {
    const s = this.s
    const r = s.retry
    // The peer's inbound proxy could not connect to its app (a pod whose app is shutting down,
    // still in this proxy's endpoints for a moment): the request never reached an app, so it is a
    // connect failure for the retry policy (Istio gets the same from retrying 503s by default).
    const peerConnectFailure = status === 503 && headers[UPSTREAM_FAILURE_HEADER] === 'connect-failure'
    if (peerConnectFailure) delete headers[UPSTREAM_FAILURE_HEADER]
    const retriable =
      r !== undefined &&
      (retriableStatus(r, status) ||
        (peerConnectFailure && retriableFailure(r, 'connect-failure')) ||
        (r.grpcStatuses.size > 0 && retriableGrpcStatus(r, grpcStatusOf(headers))))
    if (retriable && this.mayRetry()) {
      a.settle(status)
      a.abort(ABORT_RETRY)
      this.scheduleRetry(a)
      return
    }
    if (retriable && this.retries > 0) addFlag(s.rec, Flag.RetryLimitExceeded)
    a.settle(status)
    this.clearRouteTimer()
    s.rec.status = status
    s.rec.upstreamServiceTimeMs = performance.now() - this.headersAt
    const flat = flattenResponseHeaders(headers)
    applyHeaderOps(flat, s.route?.responseHeaders)
    applyHeaderOps(flat, s.weighted?.responseHeaders)
    if (s.setCookie) flat.push('set-cookie', s.setCookie)
    if (this.res instanceof Http2ServerResponse && headers['grpc-status'] !== undefined) {
      // Likely a gRPC trailers-only response: an HTTP/2 client must get it as one HEADERS frame
      // that ends the stream, so the head waits to see whether a body follows.
      this.heldHead = { status, flat }
      return
    }
    this.writeHead(status, flat)
  }

  private writeHead(status: number, flat: string[]): void {
    try {
      this.res.writeHead(status, flat)
    } catch {
      this.res.writeHead(status)
    }
  }

  /** Writes a head held back by onHeaders. */
  private flushHead(): void {
    const h = this.heldHead
    if (!h) return
    this.heldHead = undefined
    this.writeHead(h.status, h.flat)
  }

  onData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.flushHead()
    this.s.rec.bytesSent += chunk.length
    if (!this.res.write(chunk)) {
      controller.pause()
      this.res.once('drain', () => controller.resume())
    }
  }

  onEnd(a: Attempt, trailers: Record<string, string | string[] | undefined> | undefined): void {
    a.settle(undefined)
    const held = this.heldHead
    if (held && this.res instanceof Http2ServerResponse && !trailers?.['grpc-status']) {
      this.heldHead = undefined
      respondEnded(this.res, held.status, held.flat)
      this.finish()
      return
    }
    this.flushHead()
    if (trailers && this.res instanceof Http2ServerResponse) {
      const t = flattenTrailers(trailers)
      if (t) this.res.addTrailers(t)
    }
    this.res.end()
    this.finish()
  }

  onError(a: Attempt, err: Error): void {
    a.settle('local-failure')
    if (this.res.headersSent) {
      // The response had started: nothing to retry; cut the client off (Envoy resets the stream).
      addFlag(this.s.rec, Flag.UpstreamReset)
      this.res.destroy(err)
      this.finish()
      return
    }
    const kind = classify(err)
    const r = this.s.retry
    if (r && retriableFailure(r, kind) && this.mayRetry()) {
      this.scheduleRetry(a)
      return
    }
    if (r && this.retries > 0) addFlag(this.s.rec, Flag.RetryLimitExceeded)
    const reason = kind === 'connect-failure' ? 'connection failure' : 'connection termination'
    const tlsErr = tlsFailure(err)
    const transport = tlsErr ? `, transport failure reason: TLS error: ${tlsErr.code}` : ''
    this.reply(
      503,
      `upstream connect error or disconnect/reset before headers. reset reason: ${reason}${transport}`,
      Flag.UpstreamConnectFailure,
      // Inbound: the app did not take the connection; the caller's proxy may try another pod.
      kind === 'connect-failure' && this.s.rec.direction === 'INBOUND'
        ? [UPSTREAM_FAILURE_HEADER, 'connect-failure']
        : undefined,
    )
  }

  private onPerTryTimeout(a: Attempt): void {
    if (!a.lease.active || this.finished) return
    this.s.cluster!.stats.upstream_rq_timeout++
    a.settle(504)
    a.abort(ABORT_TIMEOUT)
    const r = this.s.retry
    if (r && retriableFailure(r, 'per-try-timeout') && this.mayRetry()) {
      this.scheduleRetry(a)
      return
    }
    if (this.retries > 0) addFlag(this.s.rec, Flag.RetryLimitExceeded)
    this.reply(504, 'upstream request timeout', Flag.UpstreamTimeout)
  }

  private onRouteTimeout(): void {
    this.routeTimer = undefined
    if (this.finished) return
    this.s.cluster!.stats.upstream_rq_timeout++
    const a = this.current
    if (a?.lease.active) {
      a.settle(504)
      a.abort(ABORT_TIMEOUT)
    }
    this.reply(504, 'upstream request timeout', Flag.UpstreamTimeout)
  }

  private clearRouteTimer(): void {
    if (this.routeTimer) clearTimeout(this.routeTimer)
    this.routeTimer = undefined
  }

  private reply(status: number, body: string, flag: string, headers?: readonly string[]): void {
    sendLocalReply(this.s, { status, body, flag, headers })
    this.finish()
  }

  private finish(): void {
    if (this.finished) return
    this.finished = true
    this.clearRouteTimer()
    this.ticket?.cancel()
    this.ticket = undefined
  }
}
