// Keep-alive HTTP/1.1 connections to one plaintext endpoint, written by hand for the proxy's hot
// path (undici stays for HTTP/2, TLS origination, mesh mTLS and upgrades). It takes the same
// dispatch handler as an undici Pool (onRequestStart with a controller that aborts, pauses and
// resumes; onResponseStart with lower-case headers; onResponseData; onResponseEnd; onResponseError)
// and the same settings: a cap on connections (requests wait for a free one), requests per
// connection, idle time (shortened by the server's Keep-Alive timeout), connect timeout. The
// request head is one latin1 string written with the body in one write; headers the proxy does
// not change pass as they are, after undici's checks (token names, no CR/LF/NUL in values, a path
// without spaces or controls). Responses are read by h1-response.ts; one in flight per connection.
import net from 'node:net'
import type { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'
import { ProxyError } from '../errors.ts'
import { type ResponseHeaders, ResponseParser, type ResponseSink } from './h1-response.ts'

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/
const BAD_PATH = /[^\u0021-\u00ff]/
/** Methods whose request is expected to have content: an empty one is sent with `content-length: 0`. */
const EXPECTS_PAYLOAD = new Set(['POST', 'PUT', 'PATCH', 'QUERY'])
/** Idle time cut off a server's Keep-Alive timeout, so that the server is not the one to close first. */
const KEEPALIVE_THRESHOLD_MS = 200

export interface H1PoolOptions {
  address: string
  port: number
  connectTimeoutMs: number
  idleTimeoutMs: number
  maxConnections: number | undefined
  maxRequestsPerConnection: number | undefined
  onConnect: () => void
  onDisconnect: () => void
  onConnectFail: () => void
}

type Handler = Dispatcher.DispatchHandler

function invalid(message: string): ProxyError {
  return new ProxyError('MESH_ERR_PROXY_UPSTREAM_REQUEST', message)
}

/** The request head, or a ProxyError for what undici would refuse to send. */
function requestHead(opts: Dispatcher.DispatchOptions, hostHeader: string): string {
  const method = opts.method
  const path = opts.path
  if (!TOKEN.test(method)) throw invalid('invalid request method')
  if ((path[0] !== '/' && !/^https?:\/\//.test(path)) || BAD_PATH.test(path))
    throw invalid('invalid request path')
  const body = opts.body
  const streamed = body !== null && body !== undefined && !Buffer.isBuffer(body)
  let head = `${method} ${path} HTTP/1.1\r\n`
  let host = false
  let length = false
  const h = opts.headers as readonly string[] | null | undefined
  if (h)
    for (let i = 0; i < h.length; i += 2) {
      const name = h[i]!
      const value = h[i + 1]!
      if (!TOKEN.test(name)) throw invalid('invalid header name')
      if (BAD_VALUE.test(value)) throw invalid(`invalid ${name} header`)
      if (name.length === 4 && name === 'host') host = true
      else if (name.length === 14 && name === 'content-length') {
        // A whole body is framed by its own length; a streamed one keeps the client's.
        if (!streamed) continue
        length = true
      }
      head += `${name}: ${value}\r\n`
    }
  if (!host) head += `host: ${hostHeader}\r\n`
  if (Buffer.isBuffer(body)) {
    if (body.length > 0 || EXPECTS_PAYLOAD.has(method)) head += `content-length: ${body.length}\r\n`
  } else if (streamed) {
    if (!length) head += 'transfer-encoding: chunked\r\n'
  } else if (EXPECTS_PAYLOAD.has(method)) head += 'content-length: 0\r\n'
  return `${head}\r\n`
}

/** One request: its handler, and the controller the handler is given (abort, pause, resume). */
class H1Request implements Dispatcher.DispatchController, ResponseSink {
  readonly pool: H1Pool
  readonly handler: Handler
  readonly head: string
  readonly body: Buffer | Readable | null
  readonly isHead: boolean
  conn: H1Conn | undefined
  aborted = false
  paused = false
  reason: Error | null = null
  /** The response has ended or failed: nothing more goes to the handler. */
  done = false
  /** The whole request has been written (a connection is reused only then). */
  sent = false

  constructor(pool: H1Pool, opts: Dispatcher.DispatchOptions, handler: Handler, head: string) {
    this.pool = pool
    this.handler = handler
    this.head = head
    this.body = (opts.body ?? null) as Buffer | Readable | null
    this.isHead = opts.method === 'HEAD'
  }

  abort(reason: Error): void {
    if (this.done) return
    this.aborted = true
    this.reason = reason
    this.done = true
    const conn = this.conn
    if (conn !== undefined) conn.drop(this)
    else this.pool.unqueue(this)
    this.handler.onResponseError?.(this, reason)
  }

  pause(): void {
    this.paused = true
    this.conn?.socket.pause()
  }

  resume(): void {
    this.paused = false
    this.conn?.socket.resume()
  }

  onHead(status: number, headers: ResponseHeaders): void {
    this.handler.onResponseStart?.(this, status, headers, '')
  }

  onBody(chunk: Buffer): void {
    this.handler.onResponseData?.(this, chunk)
  }

  onEnd(trailers: ResponseHeaders): void {
    this.done = true
    const conn = this.conn!
    conn.release(this)
    this.handler.onResponseEnd?.(this, trailers)
    this.pool.pump()
  }

  /** Fails the request (connection lost, malformed response) unless it is over already. */
  fail(err: Error): void {
    if (this.done) return
    this.done = true
    this.handler.onResponseError?.(this, err)
  }
}

/** One keep-alive connection, one request at a time. */
class H1Conn {
  readonly pool: H1Pool
  readonly socket: net.Socket
  readonly parser = new ResponseParser()
  req: H1Request | undefined
  connected = false
  requests = 0
  private error: Error | undefined
  private idleTimer: NodeJS.Timeout | undefined
  private idleMs = 0
  /** The idle timer's duration (refreshed while it stays the same). */
  private timerMs = 0

  constructor(pool: H1Pool, first: H1Request) {
    this.pool = pool
    const o = pool.opts
    const socket = net.connect({ host: o.address, port: o.port, noDelay: true })
    this.socket = socket
    this.req = first
    first.conn = this
    const timer = setTimeout(() => {
      socket.destroy(
        Object.assign(new Error(`connect timeout (${o.connectTimeoutMs} ms)`), {
          code: 'UND_ERR_CONNECT_TIMEOUT',
        }),
      )
    }, o.connectTimeoutMs)
    socket.once('connect', () => {
      clearTimeout(timer)
      this.connected = true
      socket.setKeepAlive(true, 60_000)
      o.onConnect()
      const req = this.req
      if (req !== undefined) this.send(req)
      else this.pool.idleOrNext(this)
    })
    socket.on('data', (data: Buffer) => this.onData(data))
    socket.on('error', (err) => {
      clearTimeout(timer)
      this.error ??= err
    })
    socket.once('close', () => this.onClose())
  }

  send(req: H1Request): void {
    this.req = req
    req.conn = this
    this.requests++
    req.handler.onRequestStart?.(req, {})
    if (req.aborted) return
    this.parser.start(req, req.isHead)
    const body = req.body
    if (body === null) {
      this.socket.write(req.head, 'latin1')
      req.sent = true
    } else if (Buffer.isBuffer(body)) {
      this.socket.cork()
      this.socket.write(req.head, 'latin1')
      if (body.length > 0) this.socket.write(body)
      this.socket.uncork()
      req.sent = true
    } else this.stream(req, body)
  }

  /** Writes a streamed body (chunked unless the head carries its length), with backpressure. */
  private stream(req: H1Request, body: Readable): void {
    const socket = this.socket
    const chunked = req.head.includes('\r\ntransfer-encoding: chunked\r\n')
    socket.write(req.head, 'latin1')
    const onData = (c: Buffer) => {
      if (c.length === 0) return
      const ok = chunked
        ? socket.write(`${c.length.toString(16)}\r\n`) && socket.write(c) && socket.write('\r\n')
        : socket.write(c)
      if (!ok) {
        body.pause()
        socket.once('drain', () => body.resume())
      }
    }
    const cleanup = () => {
      body.off('data', onData)
      body.off('end', onEnd)
      body.off('error', onError)
    }
    const onEnd = () => {
      cleanup()
      if (socket.destroyed) return
      if (chunked) socket.write('0\r\n\r\n')
      req.sent = true
    }
    const onError = (err: Error) => {
      cleanup()
      req.abort(err)
    }
    body.on('data', onData)
    body.once('end', onEnd)
    body.once('error', onError)
  }

  private onData(data: Buffer): void {
    if (this.req === undefined && !this.parser.busy) {
      // Bytes nobody asked for: the connection cannot be trusted any more.
      this.socket.destroy()
      return
    }
    try {
      this.parser.execute(data)
    } catch (err) {
      const req = this.req
      this.req = undefined
      this.parser.stop()
      this.socket.destroy()
      req?.fail(err as Error)
    }
  }

  /** The response to `req` has ended: the connection goes back to the pool, or is closed. */
  release(req: H1Request): void {
    this.req = undefined
    const max = this.pool.opts.maxRequestsPerConnection
    const hint = this.parser.keepAliveTimeoutS
    const idle = this.pool.opts.idleTimeoutMs
    const idleMs =
      hint === undefined ? idle : Math.min(hint * 1000 - KEEPALIVE_THRESHOLD_MS, Math.max(idle, 1000))
    if (
      !this.parser.keepAlive ||
      (max !== undefined && this.requests >= max) ||
      idleMs <= 0 ||
      this.pool.closed
    ) {
      this.socket.destroy()
      return
    }
    // A body still being written when the answer came (an early 413): not reused.
    if (!req.sent) {
      this.socket.destroy()
      return
    }
    this.idleMs = idleMs
    this.pool.idle.push(this)
    this.armIdle()
  }

  /** Arms the idle timer (the connection is in the idle list). */
  armIdle(): void {
    const t = this.idleTimer
    if (t !== undefined && this.timerMs === this.idleMs) t.refresh()
    else {
      if (t !== undefined) clearTimeout(t)
      this.timerMs = this.idleMs
      this.idleTimer = setTimeout(() => this.onIdleTimeout(), this.idleMs)
      this.idleTimer.unref()
    }
  }

  private onIdleTimeout(): void {
    if (this.req === undefined) this.socket.destroy()
  }

  /** Stops the exchange of `req` (aborted): the connection cannot be reused mid-response. */
  drop(req: H1Request): void {
    if (this.req !== req) return
    this.req = undefined
    // Still connecting: the connection is kept for the next request.
    if (!this.connected) return
    this.parser.stop()
    this.socket.destroy()
  }

  private onClose(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer)
    const o = this.pool.opts
    if (this.connected) o.onDisconnect()
    else o.onConnectFail()
    const req = this.req
    this.req = undefined
    this.pool.remove(this)
    if (req !== undefined) {
      if (this.connected && this.parser.untilClose) this.parser.finish()
      else
        req.fail(
          this.error ??
            Object.assign(new Error(this.connected ? 'other side closed' : 'connection closed'), {
              code: 'UND_ERR_SOCKET',
            }),
        )
    }
    this.pool.pump()
  }
}

export class H1Pool {
  readonly opts: H1PoolOptions
  /** Free connections, most recently used last. */
  readonly idle: H1Conn[] = []
  private readonly conns = new Set<H1Conn>()
  /** Requests waiting for a connection (at the connection cap). */
  private queue: H1Request[] = []
  private readonly hostHeader: string
  closed = false
  private onEmpty: (() => void) | undefined

  constructor(opts: H1PoolOptions) {
    this.opts = opts
    this.hostHeader = opts.address.includes(':')
      ? `[${opts.address}]:${opts.port}`
      : `${opts.address}:${opts.port}`
  }

  dispatch(opts: Dispatcher.DispatchOptions, handler: Handler): boolean {
    let head: string
    try {
      if (this.closed) throw Object.assign(new Error('The client is closed'), { code: 'UND_ERR_CLOSED' })
      head = requestHead(opts, this.hostHeader)
    } catch (err) {
      handler.onResponseError?.(null as unknown as Dispatcher.DispatchController, err as Error)
      return false
    }
    const req = new H1Request(this, opts, handler, head)
    const conn = this.idle.pop()
    if (conn !== undefined) conn.send(req)
    else if (this.opts.maxConnections === undefined || this.conns.size < this.opts.maxConnections)
      this.conns.add(new H1Conn(this, req))
    else this.queue.push(req)
    return true
  }

  /** A connection is free (just connected without a request, or its streamed body ended). */
  idleOrNext(conn: H1Conn): void {
    const next = this.queue.shift()
    if (next !== undefined) conn.send(next)
    else {
      this.idle.push(conn)
      conn.armIdle()
    }
  }

  /** After a response: idle connections are armed, waiting requests get a connection. */
  pump(): void {
    const idle = this.idle
    while (this.queue.length > 0) {
      const conn = idle.pop()
      const max = this.opts.maxConnections
      if (conn !== undefined) conn.send(this.queue.shift()!)
      else if (max === undefined || this.conns.size < max)
        this.conns.add(new H1Conn(this, this.queue.shift()!))
      else break
    }
    if (this.closed) this.closeIdle()
  }

  unqueue(req: H1Request): void {
    const i = this.queue.indexOf(req)
    if (i !== -1) this.queue.splice(i, 1)
  }

  remove(conn: H1Conn): void {
    this.conns.delete(conn)
    const i = this.idle.indexOf(conn)
    if (i !== -1) this.idle.splice(i, 1)
    if (this.closed && this.conns.size === 0 && this.queue.length === 0) this.onEmpty?.()
  }

  private closeIdle(): void {
    if (this.queue.length > 0) return
    for (const c of this.idle.splice(0)) c.socket.destroy()
    if (this.conns.size === 0) this.onEmpty?.()
  }

  /** Lets in-flight and waiting requests finish, closing connections as they come free. */
  close(): Promise<void> {
    this.closed = true
    const empty = new Promise<void>((resolve) => {
      this.onEmpty = resolve
    })
    this.closeIdle()
    return empty
  }

  /** Closes every connection now; in-flight and waiting requests fail. */
  destroy(): Promise<void> {
    this.closed = true
    const err = Object.assign(new Error('The client is destroyed'), { code: 'UND_ERR_DESTROYED' })
    const queued = this.queue
    this.queue = []
    for (const r of queued) r.fail(err)
    const empty = new Promise<void>((resolve) => {
      this.onEmpty = resolve
    })
    if (this.conns.size === 0) this.onEmpty?.()
    for (const c of [...this.conns]) c.socket.destroy(err)
    return empty
  }
}
