// Forwarding one HTTP request to a cluster: host choice, connection-pool limits, per-try and
// route timeouts, retries with backoff, and the response streamed back with backpressure. The
// exchange is its own bookkeeping: each try is a small undici dispatch handler; a try that is
// superseded (retry, timeout, client gone) is aborted and its callbacks ignored. Response
// trailers (gRPC's grpc-status) are passed on to an HTTP/2 client; an HTTP/1.1 client does not
// get them (node:http would only send them in a chunked response the client rarely reads).
import type { OutgoingHttpHeaders } from 'node:http'
import { constants, Http2ServerResponse } from 'node:http2'
import type { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'
import type { ClusterRuntime } from '../cluster/cluster.ts'
import type { Host } from '../cluster/host.ts'
import type { Outcome } from '../cluster/outlier.ts'
import { tlsFailure } from '../cluster/tls.ts'
import type { DownstreamResponse } from './downstream.ts'
import { grpcReplyHeaders, grpcStatusOf } from './grpc.ts'
import { flattenResponseHeaders, flattenTrailers } from './headers.ts'
import { addFlag, Flag, type RequestRecord } from './record.ts'
import {
  backoffMs,
  type CompiledRetry,
  type FailureKind,
  retriableFailure,
  retriableGrpcStatus,
  retriableStatus,
} from './retry.ts'

export interface ForwardSpec {
  cluster: ClusterRuntime
  method: string
  path: string
  /** Flat lower-case request headers (Host kept). */
  headers: string[]
  /** Buffered (retriable) body, a stream, or none. */
  body: Buffer | Readable | null
  /** For a streamed body: its bytes once it has ended within the copy limit (a retry may replay them). */
  replay: (() => Buffer | undefined) | undefined
  retry: CompiledRetry | undefined
  /** Route timeout over all tries; 0 = none. */
  timeoutMs: number
  hash: number | undefined
  original: { address: string; port: number } | undefined
  /** Adjusts response headers (route/destination header ops, cookies) before they are sent. */
  editResponseHeaders: ((flat: string[]) => void) | undefined
  /** Gets the upstream host's workload and version once it is chosen (metrics); undefined = not wanted. */
  recordHost: RequestRecord | undefined
}

const ABORT_RETRY = Symbol('retry')
const ABORT_TIMEOUT = Symbol('timeout')
const ABORT_DOWNSTREAM = Symbol('downstream')

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

/** Has the downstream response been destroyed (client gone, stream reset)? */
export function isGone(res: DownstreamResponse): boolean {
  return res instanceof Http2ServerResponse ? res.stream.destroyed : res.destroyed
}

/** Sends an HTTP/2 response as one HEADERS frame that ends the stream (gRPC's trailers-only form). */
function respondEnded(res: Http2ServerResponse, status: number, flat: readonly string[]): void {
  const headers: OutgoingHttpHeaders = { ':status': status }
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!
    const prev = headers[name]
    const v = flat[i + 1]!
    headers[name] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v]
  }
  try {
    res.stream.respond(headers, { endStream: true })
  } catch {
    // A header HTTP/2 refuses (one a route's header ops added), or the stream is gone.
    res.stream.close(constants.NGHTTP2_INTERNAL_ERROR)
  }
}

/**
 * Writes a proxy-generated response (Envoy's "local reply"). A gRPC request gets it as a gRPC
 * error: HTTP 200 with grpc-status (mapped from `status`) and grpc-message, no body; the record
 * keeps `status`, the HTTP status the reply stands for (metrics and access log).
 */
export function localReply(
  res: DownstreamResponse,
  rec: RequestRecord,
  status: number,
  body: string,
  flag?: string,
): void {
  if (flag) addFlag(rec, flag)
  rec.status = status
  if (res.headersSent || isGone(res)) {
    res.destroy()
    return
  }
  if (rec.grpc) {
    const headers = grpcReplyHeaders(status, body || `HTTP status ${status}`, rec.requestId)
    if (res instanceof Http2ServerResponse) respondEnded(res, 200, headers)
    else {
      res.writeHead(200, headers)
      res.end()
    }
    return
  }
  const buf = Buffer.from(body)
  res.writeHead(status, [
    'content-type',
    'text/plain',
    'content-length',
    String(buf.length),
    'x-request-id',
    rec.requestId,
  ])
  res.end(buf)
  rec.bytesSent = buf.length
}

class Attempt implements Dispatcher.DispatchHandler {
  readonly ex: Exchange
  readonly host: Host
  controller: Dispatcher.DispatchController | undefined
  abortedBy: symbol | undefined
  settled = false
  timer: NodeJS.Timeout | undefined

  constructor(ex: Exchange, host: Host) {
    this.ex = ex
    this.host = host
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
      this.ex.settle(this, undefined)
      return
    }
    this.ex.onError(this, err)
  }

  abort(reason: symbol): void {
    if (this.abortedBy) return
    this.abortedBy = reason
    this.controller?.abort(new Error(reason.description))
  }
}

export class Exchange {
  private readonly spec: ForwardSpec
  private readonly res: DownstreamResponse
  private readonly rec: RequestRecord
  private readonly done: () => void
  private current: Attempt | undefined
  private tried: Set<Host> | undefined
  private retries = 0
  private timer: NodeJS.Timeout | undefined
  private pendingCancel: (() => void) | undefined
  private finished = false
  private headersAt = 0
  /** Response head not written yet (a possible gRPC trailers-only response to an HTTP/2 client). */
  private heldHead: { status: number; flat: string[] } | undefined

  constructor(spec: ForwardSpec, res: DownstreamResponse, rec: RequestRecord, done: () => void) {
    this.spec = spec
    this.res = res
    this.rec = rec
    this.done = done
  }

  start(): void {
    const { timeoutMs } = this.spec
    if (timeoutMs > 0) this.timer = setTimeout(() => this.onRouteTimeout(), timeoutMs)
    // Before the request's own 'close' listener (metrics, access log), so DC is in the record.
    this.res.prependListener('close', () => {
      if (!this.finished) {
        addFlag(this.rec, Flag.DownstreamTermination)
        this.current?.abort(ABORT_DOWNSTREAM)
        this.finish()
      }
    })
    this.tryOnce()
  }

  private tryOnce(): void {
    if (this.finished) return
    const { cluster } = this.spec
    const host = cluster.choose(this.spec.hash, this.spec.original, this.tried)
    if (!host) {
      this.reply(503, 'no healthy upstream', Flag.NoHealthyUpstream)
      return
    }
    if (cluster.breaker.tryAcquire()) {
      this.send(host)
      return
    }
    const ticket = cluster.breaker.enqueue(() => {
      this.pendingCancel = undefined
      if (this.finished) cluster.breaker.release()
      else this.send(host)
    })
    if (!ticket) {
      cluster.stats.upstream_rq_pending_overflow++
      this.reply(
        503,
        'upstream connect error or disconnect/reset before headers. reset reason: overflow',
        Flag.UpstreamOverflow,
      )
      return
    }
    this.pendingCancel = () => ticket.cancel()
  }

  private send(host: Host): void {
    const spec = this.spec
    const attempt = new Attempt(this, host)
    this.current = attempt
    this.rec.attempts++
    this.rec.upstreamHost = host.key
    const rh = spec.recordHost
    if (rh) {
      rh.destinationWorkload = host.endpoint.workload ?? host.endpoint.labels?.app
      rh.destinationVersion = host.endpoint.labels?.version
    }
    host.active++
    host.lastUsed = Date.now()
    spec.cluster.stats.upstream_rq_total++
    const perTry = spec.retry?.perTryTimeoutMs ?? 0
    if (perTry > 0) attempt.timer = setTimeout(() => this.onPerTryTimeout(attempt), perTry)
    this.headersAt = performance.now()
    host.dispatch({ path: spec.path, method: spec.method, headers: spec.headers, body: spec.body }, attempt)
  }

  /** Releases an attempt's slot once and feeds its outcome to outlier detection. */
  settle(a: Attempt, outcome: Outcome | undefined): void {
    if (a.settled) return
    a.settled = true
    if (a.timer) clearTimeout(a.timer)
    a.host.active--
    this.spec.cluster.breaker.release()
    if (outcome !== undefined) this.spec.cluster.record(a.host, outcome)
  }

  /** Can this request be tried again (attempts left, retry budget free, client still there)? */
  private mayRetry(): boolean {
    const r = this.spec.retry
    if (!r || this.finished || this.retries >= r.attempts) return false
    const spec = this.spec
    let body = spec.body
    if (body !== null && !Buffer.isBuffer(body)) {
      // A streamed body can be sent again only if it has ended and its copy is whole.
      body = spec.replay?.() ?? body
      if (!Buffer.isBuffer(body)) return false
    }
    if (!spec.cluster.breaker.tryRetry()) {
      spec.cluster.stats.upstream_rq_retry_overflow++
      return false
    }
    spec.body = body
    return true
  }

  private scheduleRetry(a: Attempt): void {
    this.retries++
    this.spec.cluster.stats.upstream_rq_retry++
    this.tried ??= new Set()
    this.tried.add(a.host)
    const delay = backoffMs(this.spec.retry!, this.retries)
    setTimeout(() => {
      this.spec.cluster.breaker.retryDone()
      this.tryOnce()
    }, delay)
  }

  onHeaders(a: Attempt, status: number, headers: Record<string, string | string[] | undefined>): void {
    const r = this.spec.retry
    const retriable =
      r !== undefined &&
      (retriableStatus(r, status) ||
        (r.grpcStatuses.size > 0 && retriableGrpcStatus(r, grpcStatusOf(headers))))
    if (retriable && this.mayRetry()) {
      this.settle(a, status)
      a.abort(ABORT_RETRY)
      this.scheduleRetry(a)
      return
    }
    if (retriable && this.retries > 0) addFlag(this.rec, Flag.RetryLimitExceeded)
    this.settle(a, status)
    this.clearRouteTimer()
    const rec = this.rec
    rec.status = status
    rec.upstreamServiceTimeMs = performance.now() - this.headersAt
    const flat = flattenResponseHeaders(headers)
    this.spec.editResponseHeaders?.(flat)
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

  /** Writes a head held back by onHeaders; true if there was one. */
  private flushHead(): boolean {
    const h = this.heldHead
    if (!h) return false
    this.heldHead = undefined
    this.writeHead(h.status, h.flat)
    return true
  }

  onData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.flushHead()
    this.rec.bytesSent += chunk.length
    if (!this.res.write(chunk)) {
      controller.pause()
      this.res.once('drain', () => controller.resume())
    }
  }

  onEnd(a: Attempt, trailers: Record<string, string | string[] | undefined> | undefined): void {
    this.settle(a, undefined)
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
    if (this.res.headersSent) {
      // The response had started: nothing to retry; cut the client off (Envoy resets the stream).
      this.settle(a, 'local-failure')
      addFlag(this.rec, Flag.UpstreamReset)
      this.res.destroy(err)
      this.finish()
      return
    }
    const kind = classify(err)
    this.settle(a, 'local-failure')
    const r = this.spec.retry
    if (r && retriableFailure(r, kind) && this.mayRetry()) {
      this.scheduleRetry(a)
      return
    }
    if (r && this.retries > 0) addFlag(this.rec, Flag.RetryLimitExceeded)
    const reason = kind === 'connect-failure' ? 'connection failure' : 'connection termination'
    const tlsErr = tlsFailure(err)
    const transport = tlsErr ? `, transport failure reason: TLS error: ${tlsErr.code}` : ''
    this.reply(
      503,
      `upstream connect error or disconnect/reset before headers. reset reason: ${reason}${transport}`,
      Flag.UpstreamConnectFailure,
    )
  }

  private onPerTryTimeout(a: Attempt): void {
    if (a.settled || this.finished) return
    this.spec.cluster.stats.upstream_rq_timeout++
    this.settle(a, 504)
    a.abort(ABORT_TIMEOUT)
    const r = this.spec.retry
    if (r && retriableFailure(r, 'per-try-timeout') && this.mayRetry()) {
      this.scheduleRetry(a)
      return
    }
    if (this.retries > 0) addFlag(this.rec, Flag.RetryLimitExceeded)
    this.reply(504, 'upstream request timeout', Flag.UpstreamTimeout)
  }

  private onRouteTimeout(): void {
    this.timer = undefined
    if (this.finished) return
    this.spec.cluster.stats.upstream_rq_timeout++
    const a = this.current
    if (a && !a.settled) {
      this.settle(a, 504)
      a.abort(ABORT_TIMEOUT)
    }
    this.reply(504, 'upstream request timeout', Flag.UpstreamTimeout)
  }

  private clearRouteTimer(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
  }

  private reply(status: number, body: string, flag: string): void {
    localReply(this.res, this.rec, status, body, flag)
    this.finish()
  }

  private finish(): void {
    if (this.finished) return
    this.finished = true
    this.clearRouteTimer()
    this.pendingCancel?.()
    this.pendingCancel = undefined
    this.done()
  }
}
